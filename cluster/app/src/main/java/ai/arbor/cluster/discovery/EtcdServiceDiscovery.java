package ai.arbor.cluster.discovery;

import static ai.arbor.cluster.etcd.EtcdClients.bytes;
import static ai.arbor.cluster.etcd.EtcdClients.string;

import ai.arbor.cluster.etcd.EtcdClients;
import ai.arbor.config.ClusterSecuritySettings;
import ai.arbor.cluster.etcd.EtcdKeys;
import com.typesafe.config.Config;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.discovery.Lookup;
import org.apache.pekko.discovery.ServiceDiscovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * Pekko Discovery over etcd: a lookup of service {@code S} lists {@code arbor/S/nodes/} and answers each live node's
 * host with its management port (or remoting port when asked for port name "remoting"). Cluster Bootstrap uses it
 * with service name = cluster name to find contact points. Configured under {@code pekko.discovery.arbor-etcd}:
 * {@code endpoints} (comma-separated URLs).
 */
public final class EtcdServiceDiscovery extends ServiceDiscovery {
    private static final Logger log = LoggerFactory.getLogger(EtcdServiceDiscovery.class);

    private final Client client;

    public EtcdServiceDiscovery(ExtendedActorSystem system) {
        Config config = system.settings().config().getConfig("pekko.discovery.arbor-etcd");
        // the node's etcd credentials: the actor system's config falls back to the arbor settings it was built from
        this.client = EtcdClients.connect(EtcdClients.parseEndpoints(config.getString("endpoints")),
                ClusterSecuritySettings.from(system.settings().config().getConfig("arbor.node.security")).etcd());
        CoordinatedShutdown.get(system).addJvmShutdownHook(client::close);
    }

    @Override
    public Future<Resolved> lookup(Lookup lookup, FiniteDuration resolveTimeout) {
        boolean remoting = lookup.getPortName().map("remoting"::equals).orElse(false);
        String prefix = EtcdKeys.nodesPrefix(lookup.serviceName());
        CompletableFuture<Resolved> result = client.getKVClient()
                .get(bytes(prefix), GetOption.builder().isPrefix(true).build())
                .orTimeout(resolveTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(response -> {
                    List<ResolvedTarget> targets = new ArrayList<>();
                    for (KeyValue kv : response.getKvs()) {
                        try {
                            NodeRecord node = NodeRecord.fromJson(string(kv.getValue()));
                            int port = remoting ? node.remotingPort() : node.managementPort();
                            targets.add(new ResolvedTarget(node.host(), Option.<Object>apply(port), Option.empty()));
                        } catch (IllegalArgumentException e) {
                            log.warn("ignoring malformed node entry {}: {}", string(kv.getKey()), e.getMessage());
                        }
                    }
                    return new Resolved(lookup.serviceName(), CollectionConverters.asScala(targets).toList());
                });
        return FutureConverters.asScala(result);
    }
}
