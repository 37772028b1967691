package ai.arbor.gpu.sample;

import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.protocol.TokenLogprobs;
import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final int VOCAB = 151936;
    private final Sampler sampler = new Sampler();

    private static float[] randomLogits(long seed) {
        Random r = new Random(seed);
        float[] l = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) l[i] = (float) (r.nextGaussian() * 3);
        return l;
    }

    private static SamplingParams params(double temperature, double topP, int topK, double minP, Long seed) {
        return new SamplingParams(temperature, topP, topK, minP, seed, 0, 0, 1, 16, 0, false, new int[0], List.of(), null);
    }

    private static SamplingParams penalties(double presence, double frequency, double repetition) {
        return new SamplingParams(0, 1, 0, 0, null, presence, frequency, repetition, 16, 0, false, new int[0], List.of(), null);
    }

    private Sampled sample(float[] logits, SamplingParams p, SplittableRandom rng) {
        return sampler.sample(logits.clone(), p, new int[0], 0, 0, new int[0], rng);
    }

    private static int argmax(float[] l) {
        int b = 0;
        for (int i = 1; i < l.length; i++) if (l[i] > l[b]) b = i;
        return b;
    }

    @Test
    void greedyIsArgmax() {
        for (long s = 0; s < 5; s++) {
            float[] l = randomLogits(s);
            assertEquals(argmax(l), sample(l, SamplingParams.greedy(1), new SplittableRandom(1)).tokenId());
        }
    }

    @Test
    void suppressedTokensAreNeverPicked() {
        float[] l = randomLogits(3);
        int top = argmax(l);
        Sampled s = sampler.sample(l.clone(), SamplingParams.greedy(1), new int[0], 0, 0, new int[] {top}, new SplittableRandom(1));
        assertNotEquals(top, s.tokenId());
    }

    @Test
    void equalSeedsGiveEqualDraws() {
        float[] l = randomLogits(7);
        SamplingParams p = params(1.0, 1.0, 0, 0, 1234L);
        SplittableRandom r1 = Sampler.rngFor(p), r2 = Sampler.rngFor(p);
        int[] a = new int[20], b = new int[20];
        for (int i = 0; i < 20; i++) {
            a[i] = sample(l, p, r1).tokenId();
            b[i] = sample(l, p, r2).tokenId();
        }
        assertArrayEquals(a, b);
        assertTrue(java.util.Arrays.stream(a).distinct().count() > 1, "temperature 1 over 150k tokens should vary");
        SplittableRandom r3 = Sampler.rngFor(params(1.0, 1.0, 0, 0, 99L));
        int[] c = new int[20];
        for (int i = 0; i < 20; i++) c[i] = sample(l, p, r3).tokenId();
        assertFalse(java.util.Arrays.equals(a, c), "another seed gives other draws");
    }

    @Test
    void topKRestrictsToTheKBest() {
        float[] l = randomLogits(11);
        int[] top = TopTokens.largest(l, 5);
        Set<Integer> allowed = new HashSet<>();
        for (int t : top) allowed.add(t);
        Set<Integer> seen = new HashSet<>();
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < 300; i++) seen.add(sample(l, params(5.0, 1.0, 5, 0, null), rng).tokenId());
        assertTrue(allowed.containsAll(seen), "drew outside the top 5: " + seen);
        assertTrue(seen.size() >= 3, "a high temperature should reach most of the top 5");
    }

    @Test
    void topPKeepsTheSmallestSetWithThatMass() {
        float[] l = new float[VOCAB];
        java.util.Arrays.fill(l, -30f);
        // Probabilities about 0.5, 0.3, 0.15, 0.05 for tokens 10, 20, 30, 40; the rest ~0.
        l[10] = (float) Math.log(0.5);
        l[20] = (float) Math.log(0.3);
        l[30] = (float) Math.log(0.15);
        l[40] = (float) Math.log(0.05);
        Set<Integer> seen = new HashSet<>();
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 500; i++) seen.add(sample(l, params(1.0, 0.7, 0, 0, null), rng).tokenId());
        assertEquals(Set.of(10, 20), seen, "0.5 + 0.3 >= 0.7 is the nucleus");
        seen.clear();
        for (int i = 0; i < 500; i++) seen.add(sample(l, params(1.0, 0.9, 0, 0, null), rng).tokenId());
        assertEquals(Set.of(10, 20, 30), seen);
    }

    @Test
    void nucleusSelectionMatchesASortOnRandomWeights() {
        Random r = new Random(42);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + r.nextInt(5000);
            double[] w = new double[n];
            int[] tok = new int[n];
            double total = 0;
            for (int i = 0; i < n; i++) {
                w[i] = Math.exp(r.nextGaussian() * 2);
                tok[i] = i;
                total += w[i];
            }
            double[] sorted = w.clone();
            java.util.Arrays.sort(sorted);
            double target = total * (0.05 + 0.9 * r.nextDouble());
            int expected = 0;
            double acc = 0;
            for (int i = n - 1; i >= 0; i--) {
                acc += sorted[i];
                expected++;
                if (acc >= target) break;
            }
            double[] wc = w.clone();
            int m = Nucleus.select(tok, wc, n, target);
            assertEquals(expected, m, "trial " + trial);
            double minKept = Double.MAX_VALUE;
            for (int i = 0; i < m; i++) minKept = Math.min(minKept, wc[i]);
            for (int i = m; i < n; i++) assertTrue(wc[i] <= minKept);
        }
    }

    @Test
    void minPDropsTokensFarBelowTheBest() {
        float[] l = new float[1000];
        java.util.Arrays.fill(l, -10f);
        l[1] = 0f;                              // p/pmax = 1
        l[2] = (float) Math.log(0.5);           // 0.5
        l[3] = (float) Math.log(0.05);          // 0.05: below min_p 0.1
        Set<Integer> seen = new HashSet<>();
        SplittableRandom rng = new SplittableRandom(9);
        for (int i = 0; i < 500; i++) seen.add(sample(l, params(1.0, 1.0, 0, 0.1, null), rng).tokenId());
        assertEquals(Set.of(1, 2), seen);
    }

    @Test
    void repetitionPenaltyHitsPromptAndOutputTokens() {
        float[] l = new float[10];
        l[1] = 2f;
        l[2] = -2f;
        l[3] = 2f;
        int[] tokens = {1, 2}; // token 1 in the prompt, 2 in the output
        Penalties.apply(l, penalties(0, 0, 2.0), tokens, 1, 2);
        assertEquals(1f, l[1]);
        assertEquals(-4f, l[2]);
        assertEquals(2f, l[3], "unseen tokens keep their logit");
    }

    @Test
    void presenceAndFrequencyPenaliseOutputTokensOnly() {
        float[] l = new float[10];
        int[] tokens = {5, 6, 6, 6, 7};    // prompt {5}, output {6, 6, 6, 7}
        Penalties.apply(l, penalties(0.5, 0.25, 1.0), tokens, 1, 5);
        assertEquals(0f, l[5], "presence/frequency ignore the prompt");
        assertEquals(-0.5f - 3 * 0.25f, l[6], 1e-6);
        assertEquals(-0.5f - 0.25f, l[7], 1e-6);
    }

    @Test
    void penaltiesChangeTheGreedyPick() {
        float[] l = new float[10];
        l[4] = 1.0f;
        l[8] = 0.9f;
        int[] tokens = {4};
        Sampled s = sampler.sample(l.clone(), penalties(0.5, 0, 1), tokens, 0, 1, new int[0], new SplittableRandom(1));
        assertEquals(8, s.tokenId());
    }

    @Test
    void logprobsAreALogSoftmaxWithSortedAlternatives() {
        float[] l = randomLogits(21);
        SamplingParams p = new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 16, 0, false, new int[0], List.of(), 20);
        Sampled s = sample(l, p, new SplittableRandom(1));
        TokenLogprobs lp = s.logprobs();
        assertEquals(s.tokenId(), lp.tokenId());
        assertEquals(20, lp.topTokenIds().length);
        assertEquals(s.tokenId(), lp.topTokenIds()[0], "greedy picks the most likely token");
        assertEquals(lp.logprob(), lp.topLogprobs()[0], 1e-6);
        for (int i = 1; i < 20; i++) assertTrue(lp.topLogprobs()[i] <= lp.topLogprobs()[i - 1]);
        double mass = 0;
        for (float x : lp.topLogprobs()) {
            assertTrue(x <= 0);
            mass += Math.exp(x);
        }
        assertTrue(mass <= 1.0 + 1e-5);
        // Against a direct log-softmax in double precision.
        double max = l[argmax(l)], sum = 0;
        for (float x : l) sum += Math.exp(x - max);
        assertEquals(l[lp.topTokenIds()[5]] - max - Math.log(sum), lp.topLogprobs()[5], 1e-4);
    }

    @Test
    void rejectsBadParameters() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.validate(params(-1, 1, 0, 0, null)));
        assertThrows(IllegalArgumentException.class, () -> Sampler.validate(params(1, 0, 0, 0, null)));
        assertThrows(IllegalArgumentException.class, () -> Sampler.validate(params(1, 1, 0, 2, null)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sampler.validate(
                new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 16, 0, false, new int[0], List.of(), 21)));
        assertTrue(e.getMessage().contains("logprobs"));
    }
}
