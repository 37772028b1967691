package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.cluster.node.ClusterNode;
import ai.arbor.it.support.EtcdProcess;
import ai.arbor.it.support.InProcessNodes;
import ai.arbor.it.support.NodeProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cluster Bootstrap over etcd with nodes inside this JVM: quick checks of the formation rules. */
class InProcessBootstrapIT {
    private static EtcdProcess etcd;

    @BeforeAll
    static void startEtcd() { etcd = EtcdProcess.start(); }

    @AfterAll
    static void stopEtcd() { etcd.close(); }

    @Test
    void loneNodeFormsTheClusterAndLaterNodesJoinIt() {
        List<ClusterNode> nodes = new ArrayList<>();
        try {
            nodes.add(InProcessNodes.start(etcd.endpoint(), "lone", "frontend"));
            awaitOneCluster(nodes, Duration.ofSeconds(30));
            ClusterNode first = nodes.get(0);
            String mgmt = "http://127.0.0.1:" + first.settings().managementPort();
            // Up, but not ready: nothing has declared the node's serving part loaded.
            var notReady = NodeProcess.get(mgmt + "/ready");
            assertEquals(503, notReady.status(), notReady.body());
            assertTrue(notReady.body().contains("\"code\":\"not_ready\""), notReady.body());
            assertEquals(200, NodeProcess.get(mgmt + "/alive").status());
            first.health().modelLoaded(true);
            assertEquals(200, NodeProcess.get(mgmt + "/ready").status());
            var node = NodeProcess.get(mgmt + "/arbor/node");
            assertEquals(200, node.status());
            assertTrue(node.body().contains("\"ready\":true"), node.body());
            var members = NodeProcess.get(mgmt + "/cluster/members");
            assertTrue(members.body().contains("\"status\":\"Up\""), members.body());
            var seeds = NodeProcess.get(mgmt + "/bootstrap/seed-nodes");
            assertTrue(seeds.body().contains(first.settings().nodeAddress()), seeds.body());
            nodes.add(InProcessNodes.start(etcd.endpoint(), "lone", "worker"));
            awaitOneCluster(nodes, Duration.ofSeconds(30));
        } finally {
            nodes.forEach(ClusterNode::close);
        }
    }

    @Test
    void nodesStartedTogetherFormExactlyOneCluster() {
        for (int round = 0; round < 2; round++) {
            String cluster = "together" + round;
            List<CompletableFuture<ClusterNode>> starting = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                starting.add(CompletableFuture.supplyAsync(() -> InProcessNodes.start(etcd.endpoint(), cluster, "worker")));
            }
            List<ClusterNode> nodes = starting.stream().map(CompletableFuture::join).toList();
            try {
                awaitOneCluster(nodes, Duration.ofSeconds(40));
            } finally {
                nodes.forEach(ClusterNode::close);
            }
        }
    }

    /** Every node sees every node Up, and all agree on the member set: one cluster, not several. */
    static void awaitOneCluster(List<ClusterNode> nodes, Duration timeout) {
        Set<String> expected = nodes.stream().map(n -> Cluster.get(n.system()).selfMember().address().toString())
                .collect(Collectors.toSet());
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Set<String>> views = List.of();
        while (System.nanoTime() < deadline) {
            views = nodes.stream().map(InProcessBootstrapIT::upMembers).toList();
            if (views.stream().allMatch(expected::equals)) return;
            sleep(250);
        }
        assertEquals(expected, Set.copyOf(views).size() == 1 ? views.get(0) : Set.of(),
                "nodes did not form one cluster; views: " + views);
        assertTrue(false, "unreachable");
    }

    static Set<String> upMembers(ClusterNode node) {
        return StreamSupport.stream(Cluster.get(node.system()).state().getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up())
                .map(Member::address).map(Object::toString).collect(Collectors.toSet());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
