package ai.arbor.actors.router.nats;

import ai.arbor.actors.kvevents.NatsServer;
import ai.arbor.actors.router.kv.KvCostFunction.Candidate;
import ai.arbor.actors.router.kv.KvCostFunction;
import ai.arbor.actors.router.kv.LoadSharing;
import io.nats.client.Connection;
import io.nats.client.Nats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NatsLoadSharingTest {
    static NatsServer nats;
    static Connection a, b;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(NatsServer.available(), "nats-server not on PATH");
        nats = NatsServer.start();
        a = Nats.connect(nats.url());
        b = Nats.connect(nats.url());
    }

    @AfterAll
    static void stop() throws Exception {
        if (a != null) a.close();
        if (b != null) b.close();
        if (nats != null) nats.close();
    }

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) fail("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    @Test
    void replicasSeeEachOthersInFlightLoadAndForgetADeadOne() throws Exception {
        try (NatsLoadSharing ra = new NatsLoadSharing(a, "m", Duration.ofMillis(200));
             NatsLoadSharing rb = new NatsLoadSharing(b, "m", Duration.ofMillis(200));
             NatsLoadSharing other = new NatsLoadSharing(b, "another-model", Duration.ofMillis(200))) {
            ra.routed("r1", 7, 300);
            ra.routed("r2", 7, 100);
            ra.routed("r3", 8, 50);
            await("b sees a's load", () -> rb.remoteTokens(7) == 400 && rb.remoteRequests(8) == 1);
            assertEquals(0, ra.remoteTokens(7), "a replica does not count its own decisions as remote");
            assertEquals(0, other.remoteTokens(7), "models are separate");
            ra.released("r1");
            await("release seen", () -> rb.remoteTokens(7) == 100 && rb.remoteRequests(7) == 1);
            ra.close(); // a frontend dies without releasing r2, r3
            await("dead replica forgotten", () -> rb.remoteTokens(7) == 0 && rb.remoteRequests(8) == 0);
        }
    }

    @Test
    void twoFrontendsShareLoadFairly() throws Exception {
        // two frontends alternate 6 requests each onto 4 equal workers, nothing cached, nothing finishing yet
        boolean unevenAlone = false;
        for (int trial = 0; trial < 8; trial++) {
            int[] shared = route(true, trial);
            assertArrayEquals(new int[]{3, 3, 3, 3}, shared, "trial " + trial + ": with shared decisions the load is even");
            int[] alone = route(false, trial);
            unevenAlone |= spread(alone) >= 2;
        }
        assertTrue(unevenAlone, "each frontend on its own load alone sometimes stacks requests on one worker");
    }

    private static int spread(int[] a) {
        return java.util.Arrays.stream(a).max().orElse(0) - java.util.Arrays.stream(a).min().orElse(0);
    }

    /** Two routers alternate 12 requests over 4 workers; returns in-flight requests per worker. */
    private static int[] route(boolean share, int trial) throws Exception {
        int workers = 4;
        String model = "fair-" + share + "-" + trial;
        KvCostFunction cost = KvCostFunction.defaults();
        Random rnd = new Random(trial);
        LoadSharing[] sharing = share
                ? new LoadSharing[]{new NatsLoadSharing(a, model, Duration.ofSeconds(1)), new NatsLoadSharing(b, model, Duration.ofSeconds(1))}
                : new LoadSharing[]{LoadSharing.none(), LoadSharing.none()};
        int[][] localRequests = new int[2][workers];
        int[] total = new int[workers];
        try {
            for (int r = 0; r < 12; r++) {
                int me = r % 2;
                Candidate[] c = new Candidate[workers];
                for (int w = 0; w < workers; w++) {
                    double inFlightBlocks = 10.0 * (localRequests[me][w] + sharing[me].remoteRequests(w));
                    c[w] = new Candidate(w, 0, inFlightBlocks, 0);
                }
                int w = cost.choose(10, c, rnd);
                localRequests[me][w]++;
                total[w]++;
                sharing[me].routed("req-" + r, w, 160);
                if (share) {
                    int expect = localRequests[me][w];
                    LoadSharing peer = sharing[1 - me];
                    await("peer sees the decision", () -> peer.remoteRequests(w) == expect);
                }
            }
        } finally {
            for (LoadSharing s : sharing) s.close();
        }
        return total;
    }
}
