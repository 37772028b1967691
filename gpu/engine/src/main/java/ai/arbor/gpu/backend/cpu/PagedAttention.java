package ai.arbor.gpu.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal scaled dot-product attention over the paged cache: the query of a token at position {@code p} attends over
 * positions {@code [0, p]} of its own sequence, found through the sequence's block table. Grouped-query attention
 * maps query head {@code h} to KV head {@code h / (numHeads / numKvHeads)}. Parallel over (token, head) pairs.
 */
final class PagedAttention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final int numHeads;
    private final int headDim;
    private final int group;
    private final float scale;
    private final ThreadLocal<float[]> scores = ThreadLocal.withInitial(() -> new float[256]);

    PagedAttention(int numHeads, int numKvHeads, int headDim) {
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        this.numHeads = numHeads;
        this.headDim = headDim;
        this.group = numHeads / numKvHeads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * @param q          queries, token {@code t}'s head {@code h} at {@code t * qStride + h * headDim}
     * @param positions  each token's position in its sequence
     * @param tables     each token's block table
     * @param out        {@code [numTokens, numHeads * headDim]}
     */
    void attend(float[] q, int qStride, int[] positions, int[][] tables, float[] keyCache, float[] valueCache,
                KvCache cache, float[] out, WorkerPool pool) {
        int numTokens = positions.length;
        int maxContext = 0;
        for (int p : positions) maxContext = Math.max(maxContext, p + 1);
        pool.parallelFor(numTokens * numHeads, WorkerPool.minChunk(2L * maxContext * headDim), (from, to) -> {
            for (int unit = from; unit < to; unit++) {
                int t = unit / numHeads;
                int h = unit % numHeads;
                attendOne(q, t * qStride + h * headDim, positions[t], tables[t], h / group,
                        keyCache, valueCache, cache, out, t * numHeads * headDim + h * headDim);
            }
        });
    }

    private void attendOne(float[] q, int qOff, int position, int[] table, int kvHead, float[] keyCache,
                           float[] valueCache, KvCache cache, float[] out, int outOff) {
        int context = position + 1;
        float[] s = scores.get();
        if (s.length < context) {
            s = new float[Math.max(context, s.length * 2)];
            scores.set(s);
        }
        int blockSize = cache.blockSize;
        float max = Float.NEGATIVE_INFINITY;
        for (int start = 0; start < context; start += blockSize) {
            int slot0 = table[start / blockSize] * blockSize;
            int end = Math.min(context, start + blockSize);
            for (int p = start; p < end; p++) {
                float score = dot(q, qOff, keyCache, cache.offset(slot0 + p - start, kvHead)) * scale;
                s[p] = score;
                if (score > max) max = score;
            }
        }
        float sum = 0f;
        for (int p = 0; p < context; p++) {
            float e = (float) Math.exp(s[p] - max);
            s[p] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int d = 0; d < headDim; d++) out[outOff + d] = 0f;
        for (int start = 0; start < context; start += blockSize) {
            int slot0 = table[start / blockSize] * blockSize;
            int end = Math.min(context, start + blockSize);
            for (int p = start; p < end; p++) {
                axpy(s[p] * inv, valueCache, cache.offset(slot0 + p - start, kvHead), out, outOff);
            }
        }
    }

    private float dot(float[] a, int aOff, float[] b, int bOff) {
        int bound = F.loopBound(headDim);
        float sum = 0f;
        int i = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(F);
            for (; i < bound; i += F.length()) {
                acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < headDim; i++) sum += a[aOff + i] * b[bOff + i];
        return sum;
    }

    private void axpy(float w, float[] v, int vOff, float[] out, int outOff) {
        int bound = F.loopBound(headDim);
        int i = 0;
        if (bound > 0) {
            FloatVector wv = FloatVector.broadcast(F, w);
            for (; i < bound; i += F.length()) {
                FloatVector.fromArray(F, v, vOff + i).fma(wv, FloatVector.fromArray(F, out, outOff + i))
                        .intoArray(out, outOff + i);
            }
        }
        for (; i < headDim; i++) out[outOff + i] += w * v[vOff + i];
    }
}
