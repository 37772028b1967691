package ai.arbor.gpu.sample;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.util.Arrays;

/**
 * The device sampler's algorithm ({@code sampling.cu}: {@code sample_prepare}, {@code sample_draw}) in plain Java, step
 * for step: the same processing order, thresholds, fixed-point masses, Philox draw and vocabulary-order inverse CDF.
 * Given the same logits and row it picks the same token as the GPU (up to last-bit differences of {@code exp}), so it
 * is what the GPU's draws are checked against, and what CI checks against {@link Sampler} for equal distributions.
 */
public final class ReferenceRowSampler {
    static final float FIXED = 1099511627776f; // 2^40
    private static final int PROMPT_FLAG = 1 << 30;

    private ReferenceRowSampler() {}

    /** Picks the row's token; {@code logits} is overwritten with the processed logits (masks, bias, penalties). */
    public static Sampled sample(float[] logits, SamplingRow row) {
        process(logits, row);
        SamplingParams p = row.params();
        int vocab = logits.length;
        int arg = 0;
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) if (logits[i] > m) { m = logits[i]; arg = i; }
        int chosen = arg;
        if (!p.isGreedy() && m > Float.NEGATIVE_INFINITY) chosen = draw(logits, p, m, row.seed(), row.step());
        TokenLogprobs lp = p.logprobs() == null ? null : logprobs(logits, chosen, m, p.logprobs());
        return new Sampled(chosen, lp);
    }

    /** Mask, suppressed tokens and logit bias, then penalties from the sequence's tokens, as sample_prepare does. */
    static void process(float[] l, SamplingRow row) {
        if (row.isPlainArgmax()) return;
        if (row.tokenMask() != null) {
            for (int i = 0; i < l.length; i++) if (!SamplingRow.allowed(row.tokenMask(), i)) l[i] = Float.NEGATIVE_INFINITY;
        }
        if (row.params().hasLogitBias()) {
            for (var e : row.params().logitBias().entrySet()) l[e.getKey()] += e.getValue();
        }
        for (int t : row.suppressed()) l[t] = Float.NEGATIVE_INFINITY;
        if (!row.hasPenalties()) return;
        int[] counts = new int[l.length];
        for (int i = 0; i < row.numTokens(); i++) {
            int t = row.tokens()[i];
            if (t < 0 || t >= l.length) continue;
            if (i < row.promptLength()) counts[t] |= PROMPT_FLAG; else counts[t]++;
        }
        SamplingParams p = row.params();
        float rep = (float) p.repetitionPenalty(), pres = (float) p.presencePenalty(), freq = (float) p.frequencyPenalty();
        for (int i = 0; i < l.length; i++) {
            int c = counts[i];
            if (c == 0) continue;
            int out = c & (PROMPT_FLAG - 1);
            float v = l[i];
            if (rep != 1f) v = v > 0f ? v / rep : v * rep;
            if (out > 0) v -= freq * (float) out + pres;
            l[i] = v;
        }
    }

    static long weight(float v, float m, float invT) {
        return (long) ((float) Math.exp((v - m) * invT) * FIXED);
    }

    private static int draw(float[] l, SamplingParams p, float m, long seed, int step) {
        float temp = (float) p.temperature(), topP = (float) p.topP(), minP = (float) p.minP();
        float invT = 1f / temp;
        float floor = Float.NEGATIVE_INFINITY;
        if (p.topK() > 0 && p.topK() < l.length) floor = kthLargest(l, Float.NEGATIVE_INFINITY, p.topK());
        if (minP > 0f) floor = Math.max(floor, m + temp * (float) Math.log(minP));
        if (topP < 1f) floor = Math.max(floor, nucleusThreshold(l, floor, m, invT, topP));
        long total = 0;
        for (float v : l) if (v >= floor && v > Float.NEGATIVE_INFINITY) total += weight(v, m, invT);
        long target = unsignedMultiplyHigh(Philox.bits(seed, step), total);
        long acc = 0;
        for (int i = 0; i < l.length; i++) {
            float v = l[i];
            if (!(v >= floor && v > Float.NEGATIVE_INFINITY)) continue;
            acc += weight(v, m, invT);
            if (Long.compareUnsigned(acc, target) > 0) return i;
        }
        throw new IllegalStateException("no token drawn"); // unreachable: the best token's weight is 2^40
    }

    /** The k-th largest finite value at or above floor. */
    private static float kthLargest(float[] l, float floor, int k) {
        float[] v = candidates(l, floor);
        return v[Math.min(k, v.length) - 1];
    }

    /** The value t for which the tokens at or above it are the fewest heaviest whose mass reaches topP of the kept. */
    private static float nucleusThreshold(float[] l, float floor, float m, float invT, float topP) {
        float[] v = candidates(l, floor);
        long total = 0;
        for (float x : v) total += weight(x, m, invT);
        long need = Math.max(1, (long) Math.ceil((double) topP * (double) total));
        long acc = 0;
        for (float x : v) {
            acc += weight(x, m, invT);
            if (acc >= need) return x;
        }
        return floor;
    }

    /** Finite values at or above floor, largest first. */
    private static float[] candidates(float[] l, float floor) {
        int n = 0;
        float[] v = new float[l.length];
        for (float x : l) if (x >= floor && x > Float.NEGATIVE_INFINITY) v[n++] = x;
        v = Arrays.copyOf(v, n);
        Arrays.sort(v);
        for (int i = 0, j = n - 1; i < j; i++, j--) { float t = v[i]; v[i] = v[j]; v[j] = t; }
        return v;
    }

    private static TokenLogprobs logprobs(float[] l, int chosen, float m, int k) {
        double s = 0;
        for (float v : l) if (v > Float.NEGATIVE_INFINITY) s += Math.exp(v - m);
        double lse = m + Math.log(s);
        int[] top = TopTokens.largest(l, Math.min(k, l.length));
        float[] topLp = new float[top.length];
        for (int i = 0; i < top.length; i++) topLp[i] = (float) (l[top[i]] - lse);
        return new TokenLogprobs(chosen, (float) (l[chosen] - lse), top, topLp);
    }

    static long unsignedMultiplyHigh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }
}
