package ai.arbor.actors.metrics;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.Test;

/** A one-node cluster with two roles shows up as one member per role with status up. */
class ClusterMetricsTest {

    @Test
    void countsMembersByRoleAndStatus() throws Exception {
        ArborMetrics.start(Duration.ofSeconds(1));
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "metrics-cluster", ConfigFactory.parseString(
                "pekko.actor.provider = cluster\n"
                        + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                        + "pekko.remote.artery.canonical.port = 0\n"
                        + "pekko.cluster.roles = [frontend, worker]\n"
                        + "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on\n")
                .withFallback(ConfigFactory.load()));
        try {
            Cluster c = Cluster.get(system);
            c.manager().tell(Join.create(c.selfMember().address()));
            ClusterMetrics.start(system);
            PrometheusNamesTest.awaitAll("arbor_cluster_members{role=\"worker\",status=\"up\"} 1.0",
                    "arbor_cluster_members{role=\"frontend\",status=\"up\"} 1.0");
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get();
        }
    }
}
