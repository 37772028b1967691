package ai.arbor.gpu.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.gpu.protocol.SamplingParams;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** logit_bias and allowed-token masks in the host sampler, greedy and sampled. */
class LogitBiasAndMaskTest {
    private static final int VOCAB = 1000;

    private static float[] logits(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] l = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) l[i] = (float) r.nextGaussian();
        return l;
    }

    private static int argmax(float[] l) {
        int best = 0;
        for (int i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
        return best;
    }

    private static int pick(float[] logits, SamplingParams p, int[] allowed, long seed) {
        return new Sampler().sample(logits.clone(), p, new int[1], 0, 0, new int[0], allowed, new SplittableRandom(seed)).tokenId();
    }

    @Test
    void biasPullsAndPushesTokens() {
        float[] l = logits(1);
        int top = argmax(l);
        int low = (top + 500) % VOCAB;
        SamplingParams greedy = SamplingParams.greedy(5);
        assertEquals(low, pick(l, greedy.toBuilder().logitBias(Map.of(low, 100f)).build(), null, 0));
        assertNotEquals(top, pick(l, greedy.toBuilder().logitBias(Map.of(top, -100f)).build(), null, 0));
        SamplingParams hot = SamplingParams.builder().temperature(1).maxTokens(5).logitBias(Map.of(low, 100f)).build();
        for (long s = 0; s < 20; s++) assertEquals(low, pick(l, hot, null, s), "a +100 bias dominates any draw");
        assertTrue(Sampler.isPlainArgmax(greedy));
        assertFalse(Sampler.isPlainArgmax(greedy.toBuilder().logitBias(Map.of(low, 1f)).build()),
                "a biased request must not take the device argmax path");
    }

    @Test
    void maskKeepsToAllowedTokensEvenAgainstBias() {
        float[] l = logits(2);
        int[] allowed = new int[(VOCAB + 31) / 32];
        int[] ok = {3, 77, 640, 999};
        for (int t : ok) allowed[t >>> 5] |= 1 << (t & 31);
        int top = argmax(l);
        SamplingParams biased = SamplingParams.builder().temperature(1).maxTokens(5).logitBias(Map.of(top, 100f)).build();
        for (long s = 0; s < 50; s++) {
            int t = pick(l, biased, allowed, s);
            assertTrue(t == 3 || t == 77 || t == 640 || t == 999, "token " + t + " is masked");
        }
        int best = ok[0];
        for (int t : ok) if (l[t] > l[best]) best = t;
        assertEquals(best, pick(l, SamplingParams.greedy(5), allowed, 0), "greedy takes the best allowed token");
    }
}
