package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.it.support.ClosedLoopLoad;
import ai.arbor.it.support.ClusterProcesses;
import ai.arbor.it.support.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * etcd or NATS down while clients keep sending: no request may fail, during the outage or while nodes renew their
 * leases and reconnect after it. The outage lasts {@code -Darbor.it.outage-seconds} (10 by default, to keep CI short;
 * docs/operations.md records a 30 s run).
 */
class OutageUnderLoadIT extends ClusterProcesses {
    private static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("arbor.it.outage-seconds", 10));
    /** The lease TTL the nodes run with (the default): after etcd is back, a lease that was not renewed lapses in this. */
    private static final Duration LEASE_TTL = Duration.ofSeconds(10);
    private static final int CLIENTS = 3;

    private NodeProcess node(String cluster, String name, String roles) {
        Path model = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
        // kv routing, so the frontend depends on NATS as much as it can
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), cluster, model, MODEL_NAME,
                List.of("--router-mode", "kv", "--lease-ttl", LEASE_TTL.toSeconds() + "s"));
        nodes.add(n);
        return n;
    }

    private List<NodeProcess> startCluster(String cluster) {
        NodeProcess f = node(cluster, "f", "frontend");
        NodeProcess w1 = node(cluster, "w1", "worker");
        NodeProcess w2 = node(cluster, "w2", "worker");
        List<NodeProcess> all = List.of(f, w1, w2);
        all.forEach(NodeProcess::start);
        all.forEach(n -> n.awaitReady(READY));
        MultiNodeClusterIT.await(() -> NodeProcess.get(f.httpUrl() + "/v1/models").body().contains("\"" + MODEL_NAME + "\""),
                Duration.ofSeconds(60), "frontend never listed the model");
        return all;
    }

    @Test
    void etcdDownUnderLoadFailsNoRequestAndNoLeaseLapses() throws Exception {
        List<NodeProcess> cluster = startCluster("etcd-outage");
        NodeProcess f = cluster.get(0);
        long before, during, after;
        try (ClosedLoopLoad load = new ClosedLoopLoad(f.httpUrl() + "/v1/chat/completions", MODEL_NAME, CLIENTS)) {
            awaitRequests(load, 10);
            before = load.succeeded();
            etcd.kill();
            Thread.sleep(OUTAGE.toMillis());
            during = load.succeeded() - before;
            etcd.startAgain();
            // through the renewals and re-lists after it, and past the TTL a lapsed lease would have had
            Thread.sleep(LEASE_TTL.plusSeconds(10).toMillis());
            after = load.succeeded() - before - during;
            assertEquals(List.of(), load.failures(), "requests failed");
        }
        System.out.printf("etcd down %d s under %d clients: %d requests before, %d during, %d in the %d s after; 0 failed%n",
                OUTAGE.toSeconds(), CLIENTS, before, during, after, LEASE_TTL.plusSeconds(10).toSeconds());
        assertTrue(during > 0 && after > 0, "the cluster served during and after the outage");
        for (NodeProcess n : cluster) {
            String log = Files.readString(n.log());
            assertFalse(log.contains("granting a new one"), n.name() + " lost its etcd lease over the outage");
        }
    }

    @Test
    void natsDownUnderLoadFailsNoRequest() throws Exception {
        List<NodeProcess> cluster = startCluster("nats-outage");
        NodeProcess f = cluster.get(0);
        long before, during, after;
        try (ClosedLoopLoad load = new ClosedLoopLoad(f.httpUrl() + "/v1/chat/completions", MODEL_NAME, CLIENTS)) {
            awaitRequests(load, 10);
            before = load.succeeded();
            nats.kill();
            Thread.sleep(OUTAGE.toMillis());
            during = load.succeeded() - before;
            nats.startAgain();
            Thread.sleep(Duration.ofSeconds(15).toMillis());
            after = load.succeeded() - before - during;
            assertEquals(List.of(), load.failures(), "requests failed");
        }
        System.out.printf("NATS down %d s under %d clients: %d requests before, %d during, %d in the 15 s after; 0 failed%n",
                OUTAGE.toSeconds(), CLIENTS, before, during, after);
        assertTrue(during > 0 && after > 0, "the cluster served during and after the outage");
    }

    private static void awaitRequests(ClosedLoopLoad load, long n) {
        MultiNodeClusterIT.await(() -> load.succeeded() >= n || !load.failures().isEmpty(), Duration.ofSeconds(120),
                "load never got going");
        assertEquals(List.of(), load.failures(), "requests failed before any outage");
    }
}
