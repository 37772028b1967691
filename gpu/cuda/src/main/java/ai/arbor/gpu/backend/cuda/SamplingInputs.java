package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.sample.SamplingRow;
import java.util.List;

/**
 * One step's sampling rows packed into the int buffer {@code sampling.cu} reads: {@link #FIELDS} ints per row (padded
 * to the graph's row count), then each row's logit-bias entries (ids, then values as float bits; suppressed tokens are
 * entries of -inf) and token masks, at absolute offsets the row header names. Host-only, so it is unit-tested without
 * a GPU.
 */
record SamplingInputs(int rows, int[] packed, boolean anyLogprobs) {
    static final int FIELDS = 16;
    static final int FLAGS = 0, TEMP = 1, TOP_P = 2, TOP_K = 3, MIN_P = 4, PRESENCE = 5, FREQUENCY = 6,
            REPETITION = 7, SEED_LO = 8, SEED_HI = 9, STEP = 10, SLOT = 11, LOGPROBS = 12, BIAS_OFF = 13, BIAS_N = 14,
            MASK_OFF = 15;
    static final int GREEDY = 1, SKIP = 2, PLAIN = 4;
    /** Floats per row of logprobs that sample_draw writes: the chosen token's, 20 top ids (int bits), 20 top. */
    static final int LP_STRIDE = 41;

    /** Where each row's penalty counts live on the device, or -1 for none. */
    interface Slots {
        int slotOf(SamplingRow row);
    }

    /**
     * @param padTo rows of the graph being replayed (extra rows are skipped), or 0
     * @param vocab the mask length in bits
     */
    static SamplingInputs of(List<SamplingRow> rows, int padTo, int vocab, Slots slots) {
        int n = Math.max(rows.size(), padTo);
        int words = (vocab + 31) >>> 5;
        int extra = 0;
        for (SamplingRow r : rows) {
            extra += 2 * (biasCount(r.params()) + r.suppressed().length);
            if (r.tokenMask() != null) {
                if (r.tokenMask().length != words) {
                    throw new IllegalArgumentException("token mask of " + r.sequenceId() + " has " + r.tokenMask().length
                            + " words, the vocabulary needs " + words);
                }
                extra += words;
            }
        }
        int[] p = new int[n * FIELDS + extra];
        int next = n * FIELDS;
        boolean anyLogprobs = false;
        for (int i = 0; i < n; i++) {
            int h = i * FIELDS;
            if (i >= rows.size()) {
                p[h + FLAGS] = SKIP;
                p[h + SLOT] = -1;
                p[h + LOGPROBS] = -1;
                p[h + MASK_OFF] = -1;
                continue;
            }
            SamplingRow r = rows.get(i);
            SamplingParams s = r.params();
            p[h + FLAGS] = (s.isGreedy() ? GREEDY : 0) | (r.isPlainArgmax() ? PLAIN : 0);
            p[h + TEMP] = Float.floatToRawIntBits((float) s.temperature());
            p[h + TOP_P] = Float.floatToRawIntBits((float) s.topP());
            p[h + TOP_K] = Math.max(0, s.topK());
            p[h + MIN_P] = Float.floatToRawIntBits((float) s.minP());
            p[h + PRESENCE] = Float.floatToRawIntBits((float) s.presencePenalty());
            p[h + FREQUENCY] = Float.floatToRawIntBits((float) s.frequencyPenalty());
            p[h + REPETITION] = Float.floatToRawIntBits((float) s.repetitionPenalty());
            p[h + SEED_LO] = (int) r.seed();
            p[h + SEED_HI] = (int) (r.seed() >>> 32);
            p[h + STEP] = r.step();
            p[h + SLOT] = r.hasPenalties() ? slots.slotOf(r) : -1;
            p[h + LOGPROBS] = s.logprobs() == null ? -1 : s.logprobs();
            anyLogprobs |= s.logprobs() != null;
            int biases = biasCount(s);
            int count = biases + r.suppressed().length;
            p[h + BIAS_OFF] = next;
            p[h + BIAS_N] = count;
            if (biases > 0) {
                int j = 0;
                for (var e : s.logitBias().entrySet()) {
                    p[next + j] = e.getKey();
                    p[next + count + j] = Float.floatToRawIntBits(e.getValue());
                    j++;
                }
            }
            for (int j = 0; j < r.suppressed().length; j++) {
                p[next + biases + j] = r.suppressed()[j];
                p[next + count + biases + j] = Float.floatToRawIntBits(Float.NEGATIVE_INFINITY);
            }
            next += 2 * count;
            if (r.tokenMask() != null) {
                p[h + MASK_OFF] = next;
                System.arraycopy(r.tokenMask(), 0, p, next, words);
                next += words;
            } else {
                p[h + MASK_OFF] = -1;
            }
        }
        return new SamplingInputs(n, p, anyLogprobs);
    }

    private static int biasCount(SamplingParams s) {
        return s.hasLogitBias() ? s.logitBias().size() : 0;
    }
}
