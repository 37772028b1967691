package ai.arbor.gpu.sample;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks the next token from one row of logits, in vLLM's order: tokens a structured-output constraint forbids and
 * suppressed tokens (EOS and stop tokens before {@code min_tokens}) are masked, penalties applied, then greedy argmax, or temperature, min-p, top-k, top-p and a
 * draw from the request's own RNG.
 *
 * <p>Logprobs are the log-softmax of the logits after masking and penalties but before temperature and the top-k/p
 * and min-p filters, so they describe the model's (penalized) distribution whatever the sampling settings.
 *
 * <p>Never sorts the vocabulary: top-k and logprob alternatives come from a bounded heap, top-p from a quickselect on
 * probability mass. Keeps scratch buffers between calls, so one instance belongs to one thread (the engine's).
 */
public final class Sampler {
    public static final int MAX_LOGPROBS = 20;

    private int[] tok = new int[0];
    private double[] w = new double[0];

    /** The RNG for one request: seeded when the request names a seed, so equal seeds give equal draws. */
    public static SplittableRandom rngFor(SamplingParams p) {
        return new SplittableRandom(p.seed() != null ? p.seed() : ThreadLocalRandom.current().nextLong());
    }

    /** Rejects settings no sampler can honour, naming the parameter. */
    public static void validate(SamplingParams p) {
        if (Double.isNaN(p.temperature()) || p.temperature() < 0) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + p.temperature());
        }
        if (!(p.topP() > 0 && p.topP() <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + p.topP());
        if (!(p.minP() >= 0 && p.minP() <= 1)) throw new IllegalArgumentException("min_p must be in [0, 1], got " + p.minP());
        if (!(p.repetitionPenalty() > 0)) {
            throw new IllegalArgumentException("repetition_penalty must be > 0, got " + p.repetitionPenalty());
        }
        if (p.logprobs() != null && (p.logprobs() < 0 || p.logprobs() > MAX_LOGPROBS)) {
            throw new IllegalArgumentException("logprobs must be in [0, " + MAX_LOGPROBS + "], got " + p.logprobs());
        }
        if (p.maxTokens() < 1) throw new IllegalArgumentException("max_tokens must be >= 1, got " + p.maxTokens());
        if (p.minTokens() < 0) throw new IllegalArgumentException("min_tokens must be >= 0, got " + p.minTokens());
    }

    /**
     * True when {@link #sample} would just take the argmax of the raw logits (given nothing is suppressed): greedy, no
     * penalties, no logprobs. Such a token can be picked where the logits are, without copying them out.
     */
    public static boolean isPlainArgmax(SamplingParams p) {
        return p.isGreedy() && !Penalties.any(p) && p.logprobs() == null && !p.hasLogitBias();
    }

    /**
     * Samples one token. Overwrites {@code logits}.
     *
     * @param tokens      the sequence so far: prompt {@code [0, promptLength)}, output {@code [promptLength, numTokens)}
     * @param suppressed  token ids that must not be picked now (may be empty)
     */
    public Sampled sample(float[] logits, SamplingParams p, int[] tokens, int promptLength, int numTokens,
                          int[] suppressed, SplittableRandom rng) {
        return sample(logits, p, tokens, promptLength, numTokens, suppressed, null, rng);
    }

    /**
     * Samples one token among those {@code allowed}. Overwrites {@code logits}.
     *
     * @param allowed bitmask of allowed tokens (bit {@code t % 32} of word {@code t / 32}), or null for all
     */
    public Sampled sample(float[] logits, SamplingParams p, int[] tokens, int promptLength, int numTokens,
                          int[] suppressed, int[] allowed, SplittableRandom rng) {
        if (p.hasLogitBias()) {
            for (var e : p.logitBias().entrySet()) {
                int t = e.getKey();
                if (t >= 0 && t < logits.length) logits[t] += e.getValue();
            }
        }
        if (allowed != null) TokenMask.apply(logits, allowed);
        for (int t : suppressed) if (t >= 0 && t < logits.length) logits[t] = Float.NEGATIVE_INFINITY;
        if (Penalties.any(p)) Penalties.apply(logits, p, tokens, promptLength, numTokens);
        int chosen = p.isGreedy() ? argmax(logits) : draw(logits, p, rng);
        TokenLogprobs lp = p.logprobs() == null ? null : logprobs(logits, chosen, p.logprobs());
        return new Sampled(chosen, lp);
    }

    static int argmax(float[] logits) {
        int best = 0;
        float bv = logits[0];
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > bv) {
                bv = logits[i];
                best = i;
            }
        }
        return best;
    }

    private int draw(float[] logits, SamplingParams p, SplittableRandom rng) {
        int vocab = logits.length;
        ensureScratch(vocab);
        float max = logits[argmax(logits)];
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalStateException("every token is masked");
        double invT = 1.0 / p.temperature();
        int n;
        if (p.topK() > 0 && p.topK() < vocab) {
            int[] top = TopTokens.largest(logits, p.topK());
            n = top.length;
            System.arraycopy(top, 0, tok, 0, n);
        } else {
            n = vocab;
            for (int i = 0; i < vocab; i++) tok[i] = i;
        }
        // Weights relative to the most likely token: exp((l - max) / T) = prob / maxProb, so min-p compares directly.
        double total = 0;
        int kept = 0;
        double minP = p.minP();
        // Tokens e^30 times less likely than the best hold under 1e-8 of the mass even 150k strong, so they cannot
        // matter to a draw; skipping them saves most exp calls on real (peaked) logits.
        double floor = Math.max(-30, minP > 0 ? Math.log(minP) : -30);
        for (int i = 0; i < n; i++) {
            int t = tok[i];
            double z = (logits[t] - max) * invT;
            if (!(z >= floor)) continue;
            double x = Math.exp(z);
            tok[kept] = t;
            w[kept] = x;
            kept++;
            total += x;
        }
        n = kept;
        if (p.topP() < 1) {
            n = Nucleus.select(tok, w, n, p.topP() * total);
            total = 0;
            for (int i = 0; i < n; i++) total += w[i];
        }
        double u = rng.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += w[i];
            if (u < acc) return tok[i];
        }
        return tok[n - 1];
    }

    private static TokenLogprobs logprobs(float[] logits, int chosen, int numTop) {
        float max = logits[argmax(logits)];
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        double lse = max + Math.log(sum);
        int[] top = TopTokens.largest(logits, numTop);
        float[] topLp = new float[top.length];
        for (int i = 0; i < top.length; i++) topLp[i] = (float) (logits[top[i]] - lse);
        return new TokenLogprobs(chosen, (float) (logits[chosen] - lse), top, topLp);
    }

    private void ensureScratch(int vocab) {
        if (tok.length < vocab) {
            tok = new int[vocab];
            w = new double[vocab];
        }
    }
}
