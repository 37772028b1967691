package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.KvBlockCopier;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.Weights;
import ai.arbor.gpu.model.quant.Quantization;
import java.util.List;

/**
 * Llama / Qwen2 / Qwen3 forward pass on the CPU: fp32 arithmetic on BF16 (kept as BF16), F16 or F32 weights, or on
 * FP8 E4M3 ones quantized at load, with the Vector API and all cores. The tokens of every chunk in a batch are concatenated into one activation matrix, so each
 * weight matrix is streamed from memory once per step however many sequences are decoding. The KV cache is fp32.
 */
public final class CpuBackend implements ComputeBackend {
    private final ModelConfig config;
    private final CpuModelWeights weights;
    private final WorkerPool pool;
    private final Rope rope;
    private final PagedAttention attention;
    private final long kvCacheMemoryBytes;
    private final float eps;
    private KvCache cache;

    /** The KV cache memory of the three-argument constructor: a test or tool's model, not a served one. */
    public static final long DEFAULT_KV_CACHE_BYTES = 1L << 30;

    /** A backend whose KV cache may use {@link #DEFAULT_KV_CACHE_BYTES} (capped by the free heap). */
    public CpuBackend(ModelConfig config, Weights weights, int threads) {
        this(config, weights, threads, DEFAULT_KV_CACHE_BYTES);
    }

    /** A backend with the checkpoint's precision. */
    public CpuBackend(ModelConfig config, Weights weights, int threads, long kvCacheMemoryBytes) {
        this(config, weights, threads, kvCacheMemoryBytes, Quantization.NONE);
    }

    /**
     * @param threads            compute threads, 0 = one per available processor
     * @param kvCacheMemoryBytes memory the KV cache may take (capped by what the heap has left after the weights)
     * @param quantization       how the decoder layers' linear weights are stored ({@link Fp8Matrix} for FP8)
     */
    public CpuBackend(ModelConfig config, Weights weights, int threads, long kvCacheMemoryBytes,
                      Quantization quantization) {
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        if (kvCacheMemoryBytes <= 0) throw new IllegalArgumentException("kvCacheMemoryBytes must be > 0");
        this.config = config;
        this.weights = CpuModelWeights.load(config, weights, quantization);
        this.pool = new WorkerPool(threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
        this.rope = new Rope(config);
        this.attention = new PagedAttention(config.numHeads(), config.numKvHeads(), config.headDim());
        this.kvCacheMemoryBytes = kvCacheMemoryBytes;
        this.eps = (float) config.rmsNormEps();
    }

    @Override
    public String name() { return "cpu"; }

    /** Bytes of weight matrices one decode step streams (the roofline's denominator). */
    public long weightBytes() { return weights.bytes(); }

    public int threads() { return pool.threads(); }

    @Override
    public long kvBlockBytes(int blockSize) {
        return KvCache.blockBytes(config.numLayers(), blockSize, config.kvDim());
    }

    @Override
    public int availableKvBlocks(int blockSize) {
        Runtime rt = Runtime.getRuntime();
        long freeHeap = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (cache != null) freeHeap += (long) cache.numBlocks * kvBlockBytes(cache.blockSize);
        // Leave room for activations and garbage: the cache must not push the heap into constant full GCs.
        long budget = Math.min(kvCacheMemoryBytes, (long) (freeHeap * 0.8));
        long perLayerLimit = (long) (Integer.MAX_VALUE - 16) / ((long) blockSize * config.kvDim());
        return (int) Math.max(0, Math.min(perLayerLimit, budget / kvBlockBytes(blockSize)));
    }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        cache = null; // let the old cache go before the new one is allocated
        cache = new KvCache(config.numLayers(), numBlocks, blockSize, config.numKvHeads(), config.headDim());
    }

    @Override
    public java.util.Optional<KvBlockCopier> kvBlockCopier() {
        return cache == null ? java.util.Optional.empty() : java.util.Optional.of(new CpuKvBlockCopier(cache));
    }

    @Override
    public float[][] forward(ForwardBatch batch) {
        Tokens tk = Tokens.of(batch, config.vocabSize(), checkedCache());
        return logits(layers(tk), tk.logitRows());
    }

    @Override
    public float[][] hiddenStates(ForwardBatch batch) {
        Tokens tk = Tokens.of(batch, config.vocabSize(), checkedCache());
        float[] x = layers(tk);
        RmsNorm.apply(x, x, tk.count(), weights.finalNorm(), eps);
        return batch.perChunk(x, config.hiddenSize());
    }

    private KvCache checkedCache() {
        if (cache == null) throw new IllegalStateException("allocateKvCache must be called before forward");
        return cache;
    }

    /** Every decoder layer over the batch's tokens: the residual stream before the final norm. */
    private float[] layers(Tokens tk) {
        int n = tk.count();
        int hidden = config.hiddenSize();

        float[] x = embedding(tk.ids());
        Rope.Tables angles = rope.tables(tk.positions());
        float[] h = new float[n * hidden];
        for (int l = 0; l < weights.layers().length; l++) {
            CpuModelWeights.Layer layer = weights.layers()[l];
            RmsNorm.apply(x, h, n, layer.inputNorm(), eps);
            selfAttention(l, layer, h, tk, angles, x);
            RmsNorm.apply(x, h, n, layer.postAttentionNorm(), eps);
            mlp(layer, h, n, x);
        }
        return x;
    }

    private float[] embedding(int[] ids) {
        int hidden = config.hiddenSize();
        float[] x = new float[ids.length * hidden];
        for (int t = 0; t < ids.length; t++) weights.embedTokens().row(ids[t], x, t * hidden);
        return x;
    }

    /** {@code x += o_proj(attention(rope(q), rope(k), v))} with k and v first written into the paged cache. */
    private void selfAttention(int l, CpuModelWeights.Layer layer, float[] h, Tokens tk, Rope.Tables angles, float[] x) {
        int n = tk.count();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int headDim = config.headDim();
        int qkvDim = qDim + 2 * kvDim;
        float[] qkv = new float[n * qkvDim];
        layer.qkvProj().matmul(h, n, qkv, layer.qkvBias(), false, pool);

        float[] keyCache = cache.keys[l];
        float[] valueCache = cache.values[l];
        pool.parallelFor(n, WorkerPool.minChunk(8L * qkvDim), (from, to) -> {
            for (int t = from; t < to; t++) {
                int qOff = t * qkvDim;
                int kOff = qOff + qDim;
                int vOff = kOff + kvDim;
                if (layer.qNorm() != null) {
                    RmsNorm.apply(qkv, qOff, qkv, qOff, headDim, config.numHeads(), headDim, layer.qNorm(), eps);
                    RmsNorm.apply(qkv, kOff, qkv, kOff, headDim, config.numKvHeads(), headDim, layer.kNorm(), eps);
                }
                for (int head = 0; head < config.numHeads(); head++) rope.rotate(qkv, qOff + head * headDim, t, angles);
                for (int head = 0; head < config.numKvHeads(); head++) rope.rotate(qkv, kOff + head * headDim, t, angles);
                int slot = cache.slot(tk.tables()[t], tk.positions()[t]);
                int dst = cache.offset(slot, 0);
                System.arraycopy(qkv, kOff, keyCache, dst, kvDim);
                System.arraycopy(qkv, vOff, valueCache, dst, kvDim);
            }
        });

        float[] attn = new float[n * qDim];
        attention.attend(qkv, qkvDim, tk.positions(), tk.tables(), keyCache, valueCache, cache, attn, pool);
        layer.oProj().matmul(attn, n, x, layer.oBias(), true, pool);
    }

    /** {@code x += down_proj(silu(gate_proj(h)) * up_proj(h))}. */
    private void mlp(CpuModelWeights.Layer layer, float[] h, int n, float[] x) {
        int inter = config.intermediateSize();
        float[] gateUp = new float[n * 2 * inter];
        layer.gateUpProj().matmul(h, n, gateUp, layer.gateUpBias(), false, pool);
        float[] act = new float[n * inter];
        pool.parallelFor(n, WorkerPool.minChunk(8L * inter), (from, to) -> {
            for (int t = from; t < to; t++) Swiglu.apply(gateUp, t * 2 * inter, act, t * inter, inter);
        });
        layer.downProj().matmul(act, n, x, layer.downBias(), true, pool);
    }

    /** Final norm and lm_head for the chunks that asked for logits (their last token only). */
    private float[][] logits(float[] x, int[] rows) {
        int hidden = config.hiddenSize();
        int vocab = config.vocabSize();
        if (rows.length == 0) return new float[0][];
        float[] last = new float[rows.length * hidden];
        for (int i = 0; i < rows.length; i++) System.arraycopy(x, rows[i] * hidden, last, i * hidden, hidden);
        RmsNorm.apply(last, last, rows.length, weights.finalNorm(), eps);
        float[] flat = new float[rows.length * vocab];
        weights.lmHead().matmul(last, rows.length, flat, null, false, pool);
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            out[i] = new float[vocab];
            System.arraycopy(flat, i * vocab, out[i], 0, vocab);
        }
        return out;
    }

    @Override
    public void close() {
        pool.close();
        cache = null;
    }

    /** The batch flattened to one entry per token, validated against the vocabulary and the cache. */
    private record Tokens(int[] ids, int[] positions, int[][] tables, int[] logitRows) {
        int count() { return ids.length; }

        static Tokens of(ForwardBatch batch, int vocabSize, KvCache cache) {
            List<SequenceChunk> chunks = batch.chunks();
            int n = batch.numTokens();
            int[] ids = new int[n];
            int[] positions = new int[n];
            int[][] tables = new int[n][];
            int logits = 0;
            for (SequenceChunk c : chunks) if (c.wantLogits()) logits++;
            int[] logitRows = new int[logits];
            int t = 0;
            int li = 0;
            for (int ci = 0; ci < chunks.size(); ci++) {
                SequenceChunk c = chunks.get(ci);
                if (c.tokens().length == 0) throw new IllegalArgumentException("chunk " + ci + " has no tokens");
                if (c.startPosition() < 0) {
                    throw new IllegalArgumentException("chunk " + ci + " has negative startPosition " + c.startPosition());
                }
                int blocksNeeded = (c.endPosition() + cache.blockSize - 1) / cache.blockSize;
                if (c.blockTable().length < blocksNeeded) {
                    throw new IllegalArgumentException("chunk " + ci + " ends at position " + c.endPosition()
                            + " but its block table has only " + c.blockTable().length + " blocks of "
                            + cache.blockSize);
                }
                for (int b = 0; b < blocksNeeded; b++) {
                    int block = c.blockTable()[b];
                    if (block < 0 || block >= cache.numBlocks) {
                        throw new IllegalArgumentException("chunk " + ci + " names block " + block
                                + " but the cache has " + cache.numBlocks + " blocks");
                    }
                }
                for (int j = 0; j < c.tokens().length; j++) {
                    int id = c.tokens()[j];
                    if (id < 0 || id >= vocabSize) {
                        throw new IllegalArgumentException("chunk " + ci + " token " + j + " has id " + id
                                + " outside the vocabulary [0, " + vocabSize + ")");
                    }
                    ids[t] = id;
                    positions[t] = c.startPosition() + j;
                    tables[t] = c.blockTable();
                    t++;
                }
                if (c.wantLogits()) logitRows[li++] = t - 1;
            }
            return new Tokens(ids, positions, tables, logitRows);
        }
    }
}
