package ai.arbor.actors.router.kv;

import ai.arbor.actors.router.kv.KvCostFunction.Candidate;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class KvCostFunctionTest {
    private final Random rnd = new Random(5);

    @Test
    void cachedPrefixWinsWhenLoadIsEqual() {
        Candidate[] c = {new Candidate(1, 0, 4, 0), new Candidate(2, 6, 4, 0), new Candidate(3, 2, 4, 0)};
        for (int i = 0; i < 100; i++) assertEquals(1, KvCostFunction.defaults().choose(10, c, rnd));
    }

    @Test
    void aBusyWorkerLosesDespiteItsCache() {
        // A: everything cached but 15 blocks of decode; B: nothing cached, idle. Cost A = 0 + 15, B = 10 + 0.
        Candidate[] c = {new Candidate(1, 10, 15, 0), new Candidate(2, 0, 0, 0)};
        assertEquals(1, KvCostFunction.defaults().choose(10, c, rnd));
        // a heavier overlap weight makes the missing prefill cost more than the load: 2*10 > 15
        assertEquals(0, new KvCostFunction(2.0, 0).choose(10, c, rnd));
        // queued prompt work counts like load
        Candidate[] q = {new Candidate(1, 10, 0, 12), new Candidate(2, 0, 0, 0)};
        assertEquals(1, KvCostFunction.defaults().choose(10, q, rnd));
    }

    @Test
    void tiesAreBrokenUniformly() {
        Candidate[] c = new Candidate[4];
        for (int i = 0; i < 4; i++) c[i] = new Candidate(i, 3, 7, 0);
        int[] hits = new int[4];
        int n = 40_000;
        for (int i = 0; i < n; i++) hits[KvCostFunction.defaults().choose(10, c, rnd)]++;
        for (int h : hits) assertEquals(0.25, h / (double) n, 0.02);
    }

    @Test
    void anEqualCostGoesToTheWorkerThatComputesLess() {
        // 10 blocks: worker 1 has 6 cached but 6 blocks of work queued; worker 2 is idle with nothing cached
        Candidate[] c = {new Candidate(2, 0, 0, 0), new Candidate(1, 6, 6, 0)};
        for (int i = 0; i < 100; i++) assertEquals(1, KvCostFunction.defaults().choose(10, c, rnd));
    }

    @Test
    void temperatureSpreadsChoicesButFavoursTheCheapest() {
        Candidate[] c = {new Candidate(1, 8, 0, 0), new Candidate(2, 4, 0, 0), new Candidate(3, 0, 0, 0)};
        int[] hits = new int[3];
        for (int i = 0; i < 30_000; i++) hits[new KvCostFunction(1, 0.5).choose(8, c, rnd)]++;
        assertTrue(hits[0] > hits[1] && hits[1] > hits[2], java.util.Arrays.toString(hits));
        assertTrue(hits[2] > 1000, "the worst worker still gets some: " + java.util.Arrays.toString(hits));
        // softmax with T=0.5 over normalised costs 0, 0.5, 1: e^0 : e^-1 : e^-2
        double z = 1 + Math.exp(-1) + Math.exp(-2);
        assertEquals(1 / z, hits[0] / 30_000.0, 0.02);
        assertEquals(Math.exp(-2) / z, hits[2] / 30_000.0, 0.02);
    }

    @Test
    void oneSharedSystemPromptDoesNotPullEverythingOntoOneWorker() {
        // every request: the same 8-block system prompt plus 2 blocks of its own; 8 requests in flight at a time
        int workers = 4;
        double[] load = new double[workers];
        Set<Integer> havePrefix = new HashSet<>();
        int[] served = new int[workers];
        ArrayDeque<Integer> inFlight = new ArrayDeque<>();
        KvCostFunction cost = KvCostFunction.defaults();
        for (int r = 0; r < 400; r++) {
            Candidate[] c = new Candidate[workers];
            for (int w = 0; w < workers; w++) c[w] = new Candidate(w, havePrefix.contains(w) ? 8 : 0, load[w], 0);
            int w = cost.choose(10, c, rnd);
            served[w]++;
            load[w] += 10;
            havePrefix.add(w);
            inFlight.add(w);
            if (inFlight.size() > 8) load[inFlight.poll()] -= 10;
        }
        for (int s : served) assertTrue(s >= 60, "each worker takes a fair share: " + java.util.Arrays.toString(served));
    }

    @Test
    void rejectsBadSettings() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new KvCostFunction(-1, 0)).getMessage().contains("overlap weight"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new KvCostFunction(1, Double.NaN)).getMessage().contains("temperature"));
        assertThrows(IllegalArgumentException.class, () -> KvCostFunction.defaults().choose(1, new Candidate[0], rnd));
    }
}
