package ai.arbor.cluster.node;

import ai.arbor.cluster.discovery.EtcdNodeRegistration;
import ai.arbor.cluster.discovery.NodeRecord;
import ai.arbor.cluster.etcd.EtcdClients;
import ai.arbor.cluster.etcd.LeasedKeys;
import ai.arbor.cluster.management.NodeHealth;
import com.typesafe.config.Config;
import io.etcd.jetcd.Client;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster half of a node, independent of what it serves: the actor system (named after the cluster), its etcd
 * registration under a kept-alive lease, Pekko Management on the management port and Cluster Bootstrap, which finds
 * the other nodes through etcd and either joins their cluster or, as the lowest-addressed of a stable set of new
 * nodes, forms it.
 *
 * <p>On shutdown (SIGTERM runs CoordinatedShutdown) the node leaves the cluster and revokes its lease, so its etcd keys
 * go at once rather than after the TTL.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);

    private final NodeSettings settings;
    private final ActorSystem<Void> system;
    private final Client etcd;
    private final LeasedKeys leased;
    private final EtcdNodeRegistration registration;

    private ClusterNode(NodeSettings settings, ActorSystem<Void> system, Client etcd, LeasedKeys leased,
                        EtcdNodeRegistration registration) {
        this.settings = settings;
        this.system = system;
        this.etcd = etcd;
        this.leased = leased;
        this.registration = registration;
    }

    /** Starts the actor system with {@code guardian}, registers in etcd, starts management and bootstrap. */
    public static ClusterNode start(NodeSettings settings, Config base, Behavior<Void> guardian) {
        Config config = NodePekkoConfig.build(settings, base);
        ActorSystem<Void> system = ActorSystem.create(guardian, settings.clusterName(), config);
        Client etcd = EtcdClients.connect(settings.etcd(), settings.security().etcd());
        LeasedKeys leased = new LeasedKeys(() -> EtcdClients.connect(settings.etcd(), settings.security().etcd()), settings.leaseTtl());
        NodeRecord self = new NodeRecord(settings.advertiseHost(), settings.managementPort(), settings.advertiseRemotingPort(),
                settings.isFrontend() ? settings.port() : 0, settings.roles().stream().map(Role::pekkoRole).toList());
        EtcdNodeRegistration registration = new EtcdNodeRegistration(leased, settings.clusterName(), self);
        ClusterNode node = new ClusterNode(settings, system, etcd, leased, registration);

        CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(system));
        // Leave etcd before leaving the cluster: new nodes must not pick a leaving node as contact point.
        shutdown.addTask(CoordinatedShutdown.PhaseClusterLeave(), "arbor-etcd-deregister", () ->
                CompletableFuture.supplyAsync(() -> {
                    registration.deregister();
                    return Done.getInstance();
                }));
        shutdown.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "arbor-etcd-close", () ->
                CompletableFuture.supplyAsync(() -> {
                    leased.close();
                    etcd.close();
                    return Done.getInstance();
                }));

        // before bootstrap: its probes of other nodes take the scheme (and client TLS) that management starts with
        ManagementHttps.start(Adapter.toClassic(system), settings.security().management()).toCompletableFuture().join();
        ClusterBootstrap.get(Adapter.toClassic(system)).start();
        log.info("node {} ({}) started: management on {}://{}:{}, looking for cluster '{}' in etcd {}",
                self.address(), self.roles(), settings.security().management().on() ? "https" : "http",
                settings.host(), settings.managementPort(), settings.clusterName(),
                settings.etcdEndpoints());
        return node;
    }

    public ActorSystem<Void> system() { return system; }

    public NodeSettings settings() { return settings; }

    public Client etcd() { return etcd; }

    public LeasedKeys leased() { return leased; }

    public NodeHealth health() { return NodeHealth.get(system); }

    public boolean isUp() {
        return Cluster.get(system).selfMember().status() == MemberStatus.up();
    }

    /** Graceful exit: runs CoordinatedShutdown (drain hooks, deregistration, cluster leave) and waits for it. */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("node did not shut down cleanly: {}", e.toString());
        }
    }
}
