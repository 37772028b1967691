package ai.arbor.cluster.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;

/**
 * The Pekko configuration of a cluster node: {@code arbor-node.conf} (cluster provider, SBR, bootstrap over etcd,
 * management and health checks) with this node's addresses, ports, roles and etcd endpoints filled in.
 */
public final class NodePekkoConfig {
    private NodePekkoConfig() {}

    public static Config build(NodeSettings s, Config base) {
        List<String> roles = s.roles().stream().map(Role::pekkoRole).toList();
        Config node = ConfigFactory.empty()
                .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(s.advertiseHost()))
                .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(s.advertiseRemotingPort()))
                .withValue("pekko.remote.artery.bind.hostname", ConfigValueFactory.fromAnyRef(s.host()))
                .withValue("pekko.remote.artery.bind.port", ConfigValueFactory.fromAnyRef(s.remotingPort()))
                .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles))
                .withValue("pekko.management.http.hostname", ConfigValueFactory.fromAnyRef(s.advertiseHost()))
                .withValue("pekko.management.http.port", ConfigValueFactory.fromAnyRef(s.managementPort()))
                .withValue("pekko.management.http.bind-hostname", ConfigValueFactory.fromAnyRef(s.host()))
                .withValue("pekko.management.http.bind-port", ConfigValueFactory.fromAnyRef(s.managementPort()))
                .withValue("pekko.management.cluster.bootstrap.contact-point-discovery.service-name",
                        ConfigValueFactory.fromAnyRef(s.clusterName()))
                .withValue("pekko.discovery.arbor-etcd.endpoints", ConfigValueFactory.fromAnyRef(s.etcdEndpoints()))
                // the worker drain runs in service-unbind: give it the drain timeout and a margin
                .withValue("pekko.coordinated-shutdown.phases.service-unbind.timeout",
                        ConfigValueFactory.fromAnyRef((s.drainTimeout().toSeconds() + 10) + "s"));
        node = RemotingTls.config(s.security().remoting()).withFallback(node);
        return node.withFallback(ConfigFactory.parseResources(NodePekkoConfig.class.getClassLoader(), "arbor-node.conf"))
                .withFallback(base)
                .resolve();
    }
}
