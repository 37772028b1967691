package ai.arbor.it.support;

import ai.arbor.cluster.node.ClusterNode;
import ai.arbor.cluster.node.NodeSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Cluster nodes (no serving parts) inside the test JVM, each on its own free ports, for bootstrap tests. */
public final class InProcessNodes {
    private InProcessNodes() {}

    public static NodeSettings settings(String etcd, String cluster, String roles) {
        Map<String, Object> node = new HashMap<>();
        node.put("arbor.node.etcd", etcd);
        node.put("arbor.node.cluster-name", cluster);
        node.put("arbor.node.roles", roles);
        node.put("arbor.host", "127.0.0.1");
        node.put("arbor.port", FreePorts.next());
        node.put("arbor.node.management-port", FreePorts.next());
        node.put("arbor.node.remoting-port", FreePorts.next());
        node.put("arbor.node.lease-ttl", "3s");
        return NodeSettings.from(ConfigFactory.parseMap(node).withFallback(ConfigFactory.load()));
    }

    public static ClusterNode start(String etcd, String cluster, String roles) {
        Config base = ConfigFactory.parseString("pekko.loglevel = WARNING").withFallback(ConfigFactory.load());
        return ClusterNode.start(settings(etcd, cluster, roles), base, Behaviors.empty());
    }
}
