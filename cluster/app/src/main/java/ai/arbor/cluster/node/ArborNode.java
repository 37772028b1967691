package ai.arbor.cluster.node;

import ai.arbor.actors.frontend.Frontend;
import ai.arbor.actors.kvtransfer.KvTransport;
import ai.arbor.actors.router.KvWiring;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.cluster.management.NodeHealth;
import ai.arbor.cluster.registry.EtcdModelRegistry;
import ai.arbor.cluster.registry.ModelCard;
import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.config.ArborSettings;
import ai.arbor.config.ClusterSecuritySettings;
import ai.arbor.config.PemTls;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.http.MetricsEndpoint;
import ai.arbor.http.ModelRegistry;
import ai.arbor.http.OpenAiServer;
import ai.arbor.http.ServedModel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code arbor node}: the cluster membership ({@link ClusterNode}) plus its roles. A worker loads an engine per
 * device it lists, registers a {@link WorkerActor} for each with the Receptionist and publishes their model cards in
 * etcd; a frontend serves the
 * OpenAI API through the same {@link Frontend} and router as {@code arbor serve} ({@link Frontend#start}), over the
 * workers on reachable members, moving a request to another worker when its worker is lost, and lists the models live
 * workers serve. Workers publish their KV cache events to NATS JetStream; a frontend in router mode {@code kv}
 * indexes them to send each request where its prefix is cached. A worker on a frontend's own node hands its tokens to
 * the frontend's request actors directly ({@code LocalReplies}), as in {@code arbor serve}.
 */
public final class ArborNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ArborNode.class);

    private final ClusterNode cluster;
    private final EtcdModelRegistry registry;

    private ArborNode(ClusterNode cluster, EtcdModelRegistry registry) {
        this.cluster = cluster;
        this.registry = registry;
    }

    public static ArborNode start(NodeSettings node, ArborSettings arbor, ModelParts parts) {
        ClusterNode cluster = ClusterNode.start(node, arbor.raw(), Behaviors.empty());
        ActorSystem<Void> system = cluster.system();
        EtcdModelRegistry registry = new EtcdModelRegistry(cluster.etcd(), node.clusterName());
        NodeHealth health = cluster.health();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("roles", node.roles().stream().map(Role::pekkoRole).toList());
        details.put("address", node.nodeAddress());
        details.put("model", node.servedModelName());
        health.details(() -> details);
        KvEventsLink kv = new KvEventsLink(node);
        system.getWhenTerminated().thenRun(kv::close);
        try {
            if (node.isFrontend()) startFrontend(cluster, node, arbor, parts, registry, kv);
            if (node.isWorker()) startWorker(cluster, node, arbor, parts, registry, details, kv);
            health.modelLoaded(true);
            log.info("node {} ready: roles {}", node.nodeAddress(), node.roles());
        } catch (RuntimeException e) {
            health.failed(e.toString());
            cluster.close();
            throw e;
        }
        return new ArborNode(cluster, registry);
    }

    /**
     * Starts one worker per engine (per GPU of {@code arbor.device}): each registers with the Receptionist, publishes
     * its own KV events and model card and listens for block transfers on its own port, as workers on different hosts
     * do. The only worker of a node keeps the node's address as its name; several are {@code <address>#<i>}.
     */
    private static void startWorker(ClusterNode cluster, NodeSettings node, ArborSettings arbor, ModelParts parts,
                                    EtcdModelRegistry registry, Map<String, Object> details, KvEventsLink kv) {
        ActorSystem<Void> system = cluster.system();
        String model = node.servedModelName();
        List<String> names = workerNames(node.nodeAddress(), arbor.devices().size());
        for (String worker : names) registry.publish(cluster.leased(), ModelCard.starting(model, worker));
        log.info("loading model {} from {} on {}", model, node.model(), node.device());
        List<InferenceEngine> engines = parts.engines(arbor);
        // the data plane carries prompts' KV: it is as closed as remoting, with the same certificates, re-read when
        // they are rotated (remoting's provider does the same)
        ClusterSecuritySettings.Pem remotingTls = node.security().remoting();
        KvTransport transport = remotingTls.any() ? KvTransport.mutualTls(new PemTls(remotingTls.certFile().orElseThrow(),
                remotingTls.keyFile().orElseThrow(), remotingTls.caFile().orElseThrow())) : KvTransport.plain();
        KvSharingSettings sharing = KvSharingSettings.from(arbor);
        NodeKvEvents events = kv.forWorker();
        for (int i = 0; i < engines.size(); i++) {
            String worker = names.get(i);
            InferenceEngine engine = engines.get(i);
            WorkerActor.KvSharingConfig kvSharing = new WorkerActor.KvSharingConfig(sharing.forWorker(i), node.host(),
                    node.advertiseHost(), transport);
            String actor = engines.size() == 1 ? "worker" : "worker-" + i;
            ActorRef<WorkerActor.Command> ref = system.systemActorOf(WorkerActor.create(worker, model, engine, kvSharing),
                    actor, Props.empty());
            if (events != null) KvWiring.publishEvents(system, ref, engine, events.bus(), model);
            registry.publish(cluster.leased(), new ModelCard(model, engine.blockSize(), engine.stats().kvBlocksTotal(),
                    engine.maxModelLen(), worker, ModelCard.Status.READY));
            WorkerDrain.install(system, "arbor-" + actor + "-drain", model, ref, engine,
                    () -> registry.withdraw(cluster.leased(), model, worker), node.drainTimeout());
        }
        Map<String, Object> engineDetails = new LinkedHashMap<>(details);
        if (engines.size() > 1) engineDetails.put("workers", names);
        cluster.health().details(() -> {
            Map<String, Object> d = new LinkedHashMap<>(engineDetails);
            d.putAll(NodeEngineStats.sum(engines));
            return d;
        });
    }

    /** The workers' names: the node's address for its only worker, {@code <address>#<i>} for each of several. */
    static List<String> workerNames(String nodeAddress, int workers) {
        if (workers == 1) return List.of(nodeAddress);
        return IntStream.range(0, workers).mapToObj(i -> nodeAddress + "#" + i).toList();
    }

    private static void startFrontend(ClusterNode cluster, NodeSettings node, ArborSettings arbor, ModelParts parts,
                                      EtcdModelRegistry registry, KvEventsLink kv) throws RuntimeException {
        ActorSystem<Void> system = cluster.system();
        String model = node.servedModelName();
        SingleNode.ModelSpec spec = parts.frontendSpec(arbor);
        String mode = arbor.router().mode();
        WorkerSelector selector = KvWiring.selector(mode, system, () -> {
            NodeKvEvents events = kv.forRouter();
            return KvWiring.jetStreamRouting(events.connection(), events.bus(), model, arbor.router(), arbor.engine().blockSize());
        }, KvSharingSettings.from(arbor));
        log.info("frontend for '{}' routes in mode {}", model, mode);
        Frontend frontend = Frontend.start(system, model, selector, spec.tokenizer(), arbor.frontend());
        ServedModel served = new ServedModel(model, frontend, spec.maxModelLen(), spec.defaults(),
                System.currentTimeMillis() / 1000, spec.embeddingDimensions());
        ModelRegistry models = new ModelRegistry();
        // A model is offered while some live worker serves or loads it: /v1/models follows the workers, a model no
        // worker has is a 404, and one that is still loading waits for it (then 503 if it takes too long).
        ModelOffer.install(system, registry, models, served);
        registry.startWatching(Duration.ofSeconds(5));
        OpenAiServer server = new OpenAiServer(system, models, arbor.frontend(), arbor.chat());
        MetricsEndpoint.install(server, system);
        ServerBinding binding;
        try {
            binding = server.bind(arbor.host(), arbor.port()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not bind the HTTP API on " + arbor.host() + ":" + arbor.port() + ": " + e, e);
        }
        log.info("frontend for '{}' listening on {}:{}", model, arbor.host(), arbor.port());
        FrontendDrain.install(system, binding, server.inFlight(), node.drainTimeout());
        CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseServiceStop(), "arbor-registry-close",
                () -> CompletableFuture.supplyAsync(() -> {
                    registry.close();
                    return Done.getInstance();
                }));
    }

    /**
     * The node's one NATS connection, opened on first use. A kv-mode router cannot work without it, so it fails the
     * start; a worker without it still serves (routers then see no events from it and route to it by load alone).
     */
    private static final class KvEventsLink implements AutoCloseable {
        private final NodeSettings node;
        private NodeKvEvents events;
        private boolean failed;

        KvEventsLink(NodeSettings node) {
            this.node = node;
        }

        synchronized NodeKvEvents forRouter() {
            if (events == null) events = NodeKvEvents.connect(node.nats(), "arbor-" + node.nodeAddress(), node.security().nats());
            return events;
        }

        synchronized NodeKvEvents forWorker() {
            if (events != null || failed) return events;
            try {
                events = NodeKvEvents.connect(node.nats(), "arbor-" + node.nodeAddress(), node.security().nats());
            } catch (RuntimeException e) {
                failed = true;
                log.warn("worker publishes no KV events, KV-aware routers will route to it by load alone: {}", e.getMessage());
            }
            return events;
        }

        @Override
        public synchronized void close() {
            if (events != null) events.close();
        }
    }

    public ClusterNode cluster() { return cluster; }

    public ActorSystem<Void> system() { return cluster.system(); }

    /** Blocks until the node's actor system has terminated (SIGTERM, being downed, or {@link #close()}). */
    public void awaitTermination() {
        cluster.system().getWhenTerminated().toCompletableFuture().join();
    }

    @Override
    public void close() {
        cluster.close();
    }
}
