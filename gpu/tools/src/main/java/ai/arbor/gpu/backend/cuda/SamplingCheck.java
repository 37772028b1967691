package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.DeviceSampling;
import ai.arbor.gpu.sample.ReferenceRowSampler;
import ai.arbor.gpu.sample.Sampled;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.sample.SamplingRow;
import ai.arbor.gpu.protocol.TokenLogprobs;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The GPU sampler against its host model ({@link ReferenceRowSampler}) on real logits: one mixed batch per round whose
 * rows each exercise another parameter (temperature, top-k, top-p, min-p, the three penalties, logit bias, suppressed
 * tokens, a token mask, logprobs, greedy beside sampled), every round another (seed, step). CI checks the host model
 * against the CPU {@code Sampler} in distribution ({@code ReferenceRowSamplerTest}), so equal draws here carry that over
 * to the GPU.
 */
final class SamplingCheck {
    private SamplingCheck() {}

    /** {draws, draws equal to the host model's, rows whose logprobs agree within 1e-3}. */
    static int[] run(CudaBackend gpu, float[] flat, int logitRows, PrintStream log) {
        int vocab = flat.length / logitRows;
        List<SamplingParams> kinds = kinds(flat, vocab);
        int[] mask = new int[(vocab + 31) / 32];
        for (int t = 0; t < vocab; t += 3) mask[t >>> 5] |= 1 << (t & 31);
        int[] history = new int[24];
        for (int i = 0; i < history.length; i++) history[i] = (i * 7919) % vocab;
        int draws = 0, agree = 0, lpOk = 0, lpRows = 0;
        for (int round = 0; round < 40; round++) {
            List<SamplingRow> rows = new ArrayList<>();
            float[] raw = new float[kinds.size() * vocab];
            for (int k = 0; k < kinds.size(); k++) {
                System.arraycopy(flat, (k % logitRows) * vocab, raw, k * vocab, vocab);
                int[] suppressed = k == 8 ? new int[]{argmax(flat, (k % logitRows) * vocab, vocab)} : new int[0];
                rows.add(new SamplingRow("check-" + round + "-" + k, kinds.get(k), 1000L * round + k, round, suppressed,
                        k == 9 ? mask : null, history, 16, history.length));
            }
            DeviceSampling.StepTokens got = gpu.sampleLogits(raw, rows);
            for (int k = 0; k < rows.size(); k++) {
                gpu.release(rows.get(k).sequenceId());
                Sampled want = ReferenceRowSampler.sample(Arrays.copyOfRange(raw, k * vocab, (k + 1) * vocab), rows.get(k));
                draws++;
                if (got.tokens()[k] == want.tokenId()) agree++;
                else if (round < 2) log.printf("    sampling row %d (%s): GPU %d, host %d%n", k, kinds.get(k), got.tokens()[k], want.tokenId());
                if (want.logprobs() != null) {
                    lpRows++;
                    if (close(got.logprobs()[k], want.logprobs())) lpOk++;
                }
            }
        }
        log.printf("  GPU sampling (%d kinds of row in one batch): %d/%d draws equal the host model's, logprobs %d/%d%n",
                kinds.size(), agree, draws, lpOk, lpRows);
        return new int[]{draws, agree, lpOk == lpRows ? draws : 0};
    }

    private static List<SamplingParams> kinds(float[] flat, int vocab) {
        int top = argmax(flat, 0, vocab);
        java.util.Map<Integer, Float> bias = java.util.Map.of(top, -100f, (top + 1) % vocab, 5f, (top + 2) % vocab, 3f);
        List<SamplingParams> k = new ArrayList<>();
        k.add(params(0.7, 0.9, 0, 0, 0, 0, 1, null));      // 0 the usual client settings
        k.add(params(1.0, 1, 0, 0, 0, 0, 1, null));        // 1 plain temperature
        k.add(params(0.8, 1, 20, 0, 0, 0, 1, null));       // 2 top-k
        k.add(params(1.0, 1, 0, 0.05, 0, 0, 1, null));     // 3 min-p
        k.add(params(1.3, 0.8, 50, 0, 0, 0, 1, null));     // 4 top-k and top-p
        k.add(params(0, 1, 0, 0, 0.5, 0.3, 1.3, null));    // 5 greedy with penalties
        k.add(params(0.9, 0.95, 0, 0, 0.4, 0.2, 1.2, null)); // 6 sampled with penalties
        k.add(params(1.0, 1, 0, 0, 0, 0, 1, null).toBuilder().logitBias(bias).build()); // 7 logit bias
        k.add(params(0, 1, 0, 0, 0, 0, 1, null));          // 8 greedy, its argmax suppressed (min_tokens)
        k.add(params(0.8, 1, 0, 0, 0, 0, 1, null));        // 9 token mask
        k.add(params(0.7, 1, 0, 0, 0, 0, 1, 5));           // 10 logprobs
        k.add(params(0, 1, 0, 0, 0, 0, 1, null));          // 11 plain greedy
        return k;
    }

    private static SamplingParams params(double t, double p, int k, double minP, double presence, double frequency,
                                         double repetition, Integer logprobs) {
        return new SamplingParams(t, p, k, minP, null, presence, frequency, repetition, 16, 0, true, new int[0],
                List.of(), logprobs);
    }

    private static boolean close(TokenLogprobs a, TokenLogprobs b) {
        if (a == null || b == null || a.tokenId() != b.tokenId() || Math.abs(a.logprob() - b.logprob()) > 1e-3) return false;
        if (!Arrays.equals(a.topTokenIds(), b.topTokenIds())) return false;
        for (int i = 0; i < a.topLogprobs().length; i++) if (Math.abs(a.topLogprobs()[i] - b.topLogprobs()[i]) > 1e-3) return false;
        return true;
    }

    private static int argmax(float[] flat, int from, int len) {
        int best = 0;
        for (int i = 1; i < len; i++) if (flat[from + i] > flat[from + best]) best = i;
        return best;
    }
}
