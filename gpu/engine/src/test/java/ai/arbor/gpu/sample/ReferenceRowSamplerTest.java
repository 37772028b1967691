package ai.arbor.gpu.sample;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.TokenLogprobs;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The device sampler's algorithm (its host model) and the CPU {@link Sampler} draw from the same distribution for
 * every parameter: histograms of many draws on a small vocabulary, each from its own seed, within a total-variation
 * bound far above the sampling noise of the fixed seeds used here (~0.03) and far below any real difference.
 */
class ReferenceRowSamplerTest {
    private static final int VOCAB = 40;
    private static final int DRAWS = 20_000;
    private static final int[] HISTORY = {3, 3, 7, 11, 3, 20, 21, 7};

    private static float[] logits() {
        Random r = new Random(5);
        float[] l = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) l[i] = (float) (r.nextGaussian() * 1.5);
        return l;
    }

    private static SamplingParams params(double t, double p, int k, double minP, double pres, double freq, double rep) {
        return new SamplingParams(t, p, k, minP, null, pres, freq, rep, 16, 0, true, new int[0], List.of(), null);
    }

    private static double[] deviceModel(SamplingParams p, int[] suppressed, int[] mask) {
        double[] h = new double[VOCAB];
        for (int s = 0; s < DRAWS; s++) {
            SamplingRow row = new SamplingRow("r", p, s * 7919L, s % 5, suppressed, mask, HISTORY, 4, HISTORY.length);
            h[ReferenceRowSampler.sample(logits(), row).tokenId()] += 1.0 / DRAWS;
        }
        return h;
    }

    private static double[] hostSampler(SamplingParams p, int[] suppressed, int[] mask) {
        Sampler sampler = new Sampler();
        double[] h = new double[VOCAB];
        SplittableRandom rng = new SplittableRandom(99);
        for (int s = 0; s < DRAWS; s++) {
            Sampled got = sampler.sample(logits(), p, HISTORY, 4, HISTORY.length, suppressed, mask, rng);
            h[got.tokenId()] += 1.0 / DRAWS;
        }
        return h;
    }

    private static void assertSameDistribution(SamplingParams p, int[] suppressed, int[] mask) {
        double[] a = deviceModel(p, suppressed, mask), b = hostSampler(p, suppressed, mask);
        double tv = 0;
        for (int i = 0; i < VOCAB; i++) {
            tv += Math.abs(a[i] - b[i]) / 2;
            assertFalse(a[i] > 0.003 && b[i] == 0 || b[i] > 0.003 && a[i] == 0, "token " + i + " drawn by one only: " + p);
        }
        assertTrue(tv < 0.05, "total variation " + tv + " for " + p);
    }

    @Test
    void temperatureTopKTopPMinP() {
        assertSameDistribution(params(1.0, 1, 0, 0, 0, 0, 1), new int[0], null);
        assertSameDistribution(params(0.7, 0.9, 0, 0, 0, 0, 1), new int[0], null);
        assertSameDistribution(params(1.2, 1, 5, 0, 0, 0, 1), new int[0], null);
        assertSameDistribution(params(1.0, 1, 0, 0.1, 0, 0, 1), new int[0], null);
        assertSameDistribution(params(1.3, 0.8, 12, 0.02, 0, 0, 1), new int[0], null);
    }

    @Test
    void penaltiesBiasSuppressionAndMasks() {
        assertSameDistribution(params(1.0, 1, 0, 0, 0.8, 0.5, 1.4), new int[0], null);
        java.util.Map<Integer, Float> bias = java.util.Map.of(0, 2f, 1, -100f, 2, 1.5f);
        assertSameDistribution(params(0.9, 1, 0, 0, 0, 0, 1).toBuilder().logitBias(bias).build(), new int[0], null);
        assertSameDistribution(params(1.0, 0.95, 0, 0, 0, 0, 1), new int[]{5, 6, 7, 8}, null);
        int[] mask = new int[]{0b1010_1010_1010_1010_1010_1010_1010_1010, 0b1111};
        assertSameDistribution(params(1.0, 1, 0, 0, 0, 0, 1), new int[0], mask);
    }

    @Test
    void greedyRowsAndLogprobsEqualTheHostSamplers() {
        int[] mask = new int[]{0xffff_fff0, 0xff};
        SamplingParams p = new SamplingParams(0, 1, 0, 0, null, 0.3, 0.2, 1.3, 16, 0, true, new int[0], List.of(), 5)
                .toBuilder().logitBias(java.util.Map.of(4, 3f)).build();
        SamplingRow row = new SamplingRow("r", p, 1, 0, new int[]{9}, mask, HISTORY, 4, HISTORY.length);
        Sampled device = ReferenceRowSampler.sample(logits(), row);
        Sampled host = new Sampler().sample(logits(), p, HISTORY, 4, HISTORY.length, new int[]{9}, mask,
                new SplittableRandom(1));
        assertEquals(host.tokenId(), device.tokenId());
        assertArrayEquals(host.logprobs().topTokenIds(), device.logprobs().topTokenIds());
        assertEquals(host.logprobs().logprob(), device.logprobs().logprob(), 1e-5);
        for (int i = 0; i < 5; i++) {
            assertEquals(host.logprobs().topLogprobs()[i], device.logprobs().topLogprobs()[i], 1e-5);
            assertTrue(SamplingRow.allowed(mask, device.logprobs().topTokenIds()[i]), "masked tokens get no mass");
        }
    }

    @Test
    void aDrawDependsOnItsSeedAndStepOnly() {
        SamplingParams p = params(1.0, 0.9, 0, 0, 0, 0, 1);
        SamplingRow a = new SamplingRow("a", p, 77, 3, new int[0], null, HISTORY, 4, HISTORY.length);
        SamplingRow b = new SamplingRow("b", p, 77, 3, new int[0], null, new int[]{1, 2}, 2, 2);
        assertEquals(ReferenceRowSampler.sample(logits(), a).tokenId(), ReferenceRowSampler.sample(logits(), b).tokenId());
        int differing = 0;
        for (int step = 0; step < 50; step++) {
            SamplingRow s = new SamplingRow("a", p, 77, step, new int[0], null, HISTORY, 4, HISTORY.length);
            SamplingRow t = new SamplingRow("a", p, 78, step, new int[0], null, HISTORY, 4, HISTORY.length);
            if (ReferenceRowSampler.sample(logits(), s).tokenId() != ReferenceRowSampler.sample(logits(), t).tokenId()) differing++;
        }
        assertTrue(differing > 10, "another seed gives another stream: " + differing);
    }
}
