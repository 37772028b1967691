package ai.arbor.gpu.backend.cuda;

import static ai.arbor.gpu.backend.cuda.SamplingInputs.*;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.sample.SamplingRow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The packed layout sampling.cu reads, checked without a GPU. */
class SamplingInputsTest {
    private static final int VOCAB = 70; // three mask words

    @Test
    void rowsCarryTheirParametersBiasMasksAndPaddingIsSkipped() {
        java.util.Map<Integer, Float> bias = new java.util.LinkedHashMap<>();
        bias.put(7, 2.5f);
        bias.put(9, -100f);
        SamplingParams sampled = new SamplingParams(0.7, 0.9, 40, 0.05, 5L, 0.5, 0.25, 1.2, 16, 3, false, new int[0],
                List.of(), 4).toBuilder().logitBias(bias).build();
        int[] mask = {0xffff, 0, 0x3};
        long seed = 0x1234_5678_9abc_def0L;
        SamplingRow a = new SamplingRow("a", sampled, seed, 11, new int[]{2}, mask, new int[]{1, 2, 3}, 2, 3);
        SamplingRow b = new SamplingRow("b", SamplingParams.greedy(8), 1, 0, new int[0], null, new int[]{4}, 1, 1);
        SamplingInputs in = SamplingInputs.of(List.of(a, b), 4, VOCAB, r -> r.sequenceId().equals("a") ? 3 : 99);
        int[] p = in.packed();
        assertEquals(4, in.rows());
        assertTrue(in.anyLogprobs());
        assertEquals(0, p[FLAGS], "sampled, not plain");
        assertEquals(0.7f, Float.intBitsToFloat(p[TEMP]));
        assertEquals(0.9f, Float.intBitsToFloat(p[TOP_P]));
        assertEquals(40, p[TOP_K]);
        assertEquals(0.05f, Float.intBitsToFloat(p[MIN_P]));
        assertEquals(0.5f, Float.intBitsToFloat(p[PRESENCE]));
        assertEquals(0.25f, Float.intBitsToFloat(p[FREQUENCY]));
        assertEquals(1.2f, Float.intBitsToFloat(p[REPETITION]));
        assertEquals(seed, (p[SEED_LO] & 0xffffffffL) | ((long) p[SEED_HI] << 32));
        assertEquals(11, p[STEP]);
        assertEquals(3, p[SLOT], "penalized rows get their slot");
        assertEquals(4, p[LOGPROBS]);
        // bias entries: the two biases, then the suppressed token at -inf
        int off = p[BIAS_OFF], n = p[BIAS_N];
        assertEquals(3, n);
        assertArrayEquals(new int[]{7, 9, 2}, java.util.Arrays.copyOfRange(p, off, off + n));
        assertEquals(2.5f, Float.intBitsToFloat(p[off + n]));
        assertEquals(-100f, Float.intBitsToFloat(p[off + n + 1]));
        assertEquals(Float.NEGATIVE_INFINITY, Float.intBitsToFloat(p[off + n + 2]));
        assertArrayEquals(mask, java.util.Arrays.copyOfRange(p, p[MASK_OFF], p[MASK_OFF] + 3));

        int h = FIELDS;
        assertEquals(GREEDY | PLAIN, p[h + FLAGS], "plain greedy: no processing at all");
        assertEquals(-1, p[h + SLOT], "no penalties, no slot");
        assertEquals(-1, p[h + LOGPROBS]);
        assertEquals(-1, p[h + MASK_OFF]);
        assertEquals(0, p[h + BIAS_N]);
        for (int r = 2; r < 4; r++) {
            assertEquals(SKIP, p[r * FIELDS + FLAGS], "graph padding row " + r);
            assertEquals(-1, p[r * FIELDS + SLOT]);
        }
    }

    @Test
    void aMaskOfTheWrongLengthIsRefused() {
        SamplingRow r = new SamplingRow("a", SamplingParams.greedy(4), 1, 0, new int[0], new int[2], new int[]{1}, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SamplingInputs.of(List.of(r), 0, VOCAB, x -> -1));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
    }
}
