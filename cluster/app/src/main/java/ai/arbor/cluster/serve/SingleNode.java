package ai.arbor.cluster.serve;

import ai.arbor.actors.frontend.Frontend;
import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.router.KvWiring;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.LoadSharing;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.ArborSettings;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.gpu.model.EmbeddingDimensions;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.http.MetricsEndpoint;
import ai.arbor.http.ModelRegistry;
import ai.arbor.http.OpenAiServer;
import ai.arbor.http.SamplingDefaults;
import ai.arbor.http.ServedModel;
import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * Every role in one JVM: an actor system with one or more workers (each owning an engine), the model's router and the
 * HTTP frontend. The frontend is assembled by {@link Frontend#start} as on a cluster frontend ({@code ArborNode}):
 * the same {@code RouterActor} and request actors, the Receptionist listing the workers (here the local one), requests
 * moving to another worker when theirs stops. Only discovery's reach and where KV events travel differ. Used by
 * {@code arbor serve}, the tests and the overhead benchmark.
 */
public final class SingleNode implements AutoCloseable {
    /** Where this JVM's workers listen for each other's block transfers: nothing outside the host reaches them. */
    private static final String LOOPBACK = "127.0.0.1";
    private final ActorSystem<Void> system;
    private final ServerBinding binding;
    private final OpenAiServer server;
    private final List<ActorRef<WorkerActor.Command>> workers;

    private SingleNode(ActorSystem<Void> system, ServerBinding binding, OpenAiServer server,
                       List<ActorRef<WorkerActor.Command>> workers) {
        this.system = system;
        this.binding = binding;
        this.server = server;
        this.workers = List.copyOf(workers);
    }

    /** What the model brings: its tokenizer, its context length, its sampling defaults, its embeddings' sizes. */
    public record ModelSpec(ModelTokenizer tokenizer, int maxModelLen, SamplingDefaults defaults,
                            EmbeddingDimensions embeddingDimensions) {
        public ModelSpec(ModelTokenizer tokenizer, int maxModelLen, SamplingDefaults defaults) {
            this(tokenizer, maxModelLen, defaults, EmbeddingDimensions.FULL_ONLY);
        }
    }

    /** {@link #start(ArborSettings, ModelSpec, List)} with one worker. */
    public static SingleNode start(ArborSettings settings, ModelSpec model, InferenceEngine engine) {
        return start(settings, model, List.of(engine));
    }

    /**
     * Starts the actor system and the frontend, then one worker per engine ({@code worker-0}, {@code worker-1}, …);
     * returns once the HTTP port is bound and the router lists every worker. {@code settings.port()} 0 binds a free
     * port ({@link #port()}).
     */
    public static SingleNode start(ArborSettings settings, ModelSpec model, List<InferenceEngine> engines) {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "arbor", pekkoConfig(settings.raw()));
        try {
            String name = settings.servedModelName();
            int blockSize = engines.get(0).blockSize();
            // one process: KV events stay in process (mode kv chooses among this JVM's workers)
            InProcessKvEventBus kvEvents = new InProcessKvEventBus();
            system.getWhenTerminated().thenRun(kvEvents::close);
            KvSharingSettings sharing = localSharing(settings, engines.size());
            WorkerSelector selector = KvWiring.selector(settings.router().mode(), system, () -> KvRouting.start(name,
                    kvEvents, Optional.empty(), LoadSharing.none(), KvRouting.Settings.from(settings.router(), blockSize)),
                    sharing == null ? KvSharingSettings.defaults() : sharing);
            Frontend frontend = Frontend.start(system, name, selector, model.tokenizer(), settings.frontend());
            ModelRegistry registry = new ModelRegistry();
            registry.add(new ServedModel(name, frontend, model.maxModelLen(), model.defaults(),
                    System.currentTimeMillis() / 1000, model.embeddingDimensions()));
            OpenAiServer server = new OpenAiServer(system, registry, settings.frontend(), settings.chat());
            MetricsEndpoint.install(server, system);
            ServerBinding binding = server.bind(settings.host(), settings.port()).toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            List<ActorRef<WorkerActor.Command>> workers = new ArrayList<>();
            for (int i = 0; i < engines.size(); i++) {
                String id = "worker-" + i;
                WorkerActor.KvSharingConfig kv = sharing == null ? null
                        : new WorkerActor.KvSharingConfig(sharing, LOOPBACK, LOOPBACK);
                ActorRef<WorkerActor.Command> worker =
                        system.systemActorOf(WorkerActor.create(id, name, engines.get(i), kv), id, Props.empty());
                KvWiring.publishEvents(system, worker, engines.get(i), kvEvents, name);
                workers.add(worker);
            }
            awaitWorkers(system, frontend.router(), engines.size(), Duration.ofSeconds(30));
            return new SingleNode(system, binding, server, workers);
        } catch (Exception e) {
            system.terminate();
            engines.forEach(InferenceEngine::close);
            throw new IllegalStateException("could not start serving on " + settings.host() + ":" + settings.port()
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * KV sharing among this JVM's workers, with two or more: each listens for block transfers on loopback, on a port of
     * its own (a configured {@code transfer-port} is one port, so it is not used, nor is an advertised one), and does
     * both prefill and decode, as {@code serve}'s workers all take requests. In router mode {@code kv}, a request sent
     * to one worker pulls the prefix another worker holds over the same data plane a cluster uses, on loopback: one
     * code path for both, with its deadline and its fallback to computing. Null with one worker.
     */
    private static KvSharingSettings localSharing(ArborSettings settings, int workers) {
        if (workers < 2) return null;
        KvSharingSettings k = KvSharingSettings.from(settings);
        return new KvSharingSettings("both", 0, 0, k.transferTimeout(), k.disaggMinPrefillTokens(), k.peerPullMinBlocks(),
                k.idleConnectionsPerPeer(), k.connectionIdleTimeout(), k.bufferPoolBytes());
    }

    private static Config pekkoConfig(Config raw) {
        return raw;
    }

    /** Returns once the router has seen every worker's registration, so that "ready" really means ready. */
    private static void awaitWorkers(ActorSystem<Void> system, ActorRef<RouterActor.Command> router, int workers,
                                     Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            RouterActor.Status s = AskPattern.<RouterActor.Command, RouterActor.Status>ask(router,
                    RouterActor.GetStatus::new, Duration.ofSeconds(5), system.scheduler()).toCompletableFuture().get();
            if (s.workers() >= workers) return;
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(s.workers() + " of " + workers + " worker(s) registered in " + timeout);
            }
            Thread.sleep(10);
        }
    }

    public int port() { return ((InetSocketAddress) binding.localAddress()).getPort(); }

    public String url() {
        InetSocketAddress a = binding.localAddress();
        return (server.secure() ? "https://" : "http://") + a.getHostString() + ":" + a.getPort();
    }

    public ActorSystem<Void> system() { return system; }

    public OpenAiServer server() { return server; }

    /** The workers, in the order of their engines. */
    public List<ActorRef<WorkerActor.Command>> workers() { return workers; }

    @Override
    public void close() {
        binding.unbind().toCompletableFuture().join();
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the engine thread is a daemon: it cannot keep the JVM up
        }
    }
}
