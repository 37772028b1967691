package ai.arbor.cluster.serve;

import ai.arbor.actors.frontend.Frontend;
import ai.arbor.actors.frontend.ModelTokenizer;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.router.KvRouting;
import ai.arbor.actors.router.KvWiring;
import ai.arbor.actors.router.LoadSharing;
import ai.arbor.actors.router.WorkerSelector;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.engine.PoolingConfig;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.Pooling;
import ai.arbor.http.MetricsEndpoint;
import ai.arbor.http.ModelRegistry;
import ai.arbor.http.OpenAiServer;
import ai.arbor.http.SamplingDefaults;
import ai.arbor.http.ServedModel;
import com.typesafe.config.Config;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * Every role in one JVM: an actor system with one worker (owning the engine), the model's router and the HTTP
 * frontend. Discovery is the local Receptionist, so the same actors run unchanged when a cluster provider makes the
 * Receptionist cluster-wide. Used by {@code arbor serve}, the tests and the overhead benchmark.
 */
public final class SingleNode implements AutoCloseable {
    private final ActorSystem<Void> system;
    private final ServerBinding binding;
    private final OpenAiServer server;

    private SingleNode(ActorSystem<Void> system, ServerBinding binding, OpenAiServer server) {
        this.system = system;
        this.binding = binding;
        this.server = server;
    }

    /** What the model brings: its tokenizer, its context length and its sampling defaults. */
    public record ModelSpec(ModelTokenizer tokenizer, int maxModelLen, SamplingDefaults defaults) {}

    /**
     * Starts the actor system and the frontend, then the worker with {@code engine}; returns once the HTTP port is
     * bound. {@code settings.port()} 0 binds a free port ({@link #port()}).
     */
    public static SingleNode start(ArborSettings settings, ModelSpec model, InferenceEngine engine) {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "arbor", pekkoConfig(settings.raw()));
        try {
            String name = settings.servedModelName();
            Duration wait = settings.frontend().workerWait();
            // one process: KV events stay in process (mode kv works, though with one worker it has nothing to choose)
            InProcessKvEventBus kvEvents = new InProcessKvEventBus();
            system.getWhenTerminated().thenRun(kvEvents::close);
            WorkerSelector selector = KvWiring.selector(settings.router().mode(), system, () -> KvRouting.start(name,
                    kvEvents, Optional.empty(), LoadSharing.none(), KvRouting.Settings.from(settings.router(), engine.blockSize())));
            ActorRef<RouterActor.Command> router = system.systemActorOf(
                    RouterActor.create(name, selector, wait), "router-" + safe(name), Props.empty());
            ModelRegistry registry = new ModelRegistry();
            registry.add(new ServedModel(name, new Frontend(system, router, model.tokenizer(), wait),
                    model.maxModelLen(), model.defaults(), System.currentTimeMillis() / 1000));
            OpenAiServer server = new OpenAiServer(system, registry, settings.frontend(), settings.chat());
            MetricsEndpoint.install(server, system);
            // embeddings skip the router: this process owns the engine (see Embeddings)
            Pooling pooling = PoolingConfig.read(settings.model());
            server.embeddings().register(name, prompts -> engine.embed(prompts, pooling));
            ServerBinding binding = server.bind(settings.host(), settings.port()).toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            ActorRef<WorkerActor.Command> worker =
                    system.systemActorOf(WorkerActor.create("worker-0", name, engine), "worker-0", Props.empty());
            KvWiring.publishEvents(system, worker, engine, kvEvents, name);
            awaitWorker(system, router, Duration.ofSeconds(30));
            return new SingleNode(system, binding, server);
        } catch (Exception e) {
            system.terminate();
            engine.close();
            throw new IllegalStateException("could not start serving on " + settings.host() + ":" + settings.port()
                    + ": " + e.getMessage(), e);
        }
    }

    private static Config pekkoConfig(Config raw) {
        return raw;
    }

    /** Returns once the router has seen the worker's registration, so that "ready" really means ready. */
    private static void awaitWorker(ActorSystem<Void> system, ActorRef<RouterActor.Command> router, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            RouterActor.Status s = AskPattern.<RouterActor.Command, RouterActor.Status>ask(router,
                    RouterActor.GetStatus::new, Duration.ofSeconds(5), system.scheduler()).toCompletableFuture().get();
            if (s.workers() > 0) return;
            if (System.nanoTime() > deadline) throw new IllegalStateException("the worker did not register in " + timeout);
            Thread.sleep(10);
        }
    }

    private static String safe(String name) {
        return name.replaceAll("[^A-Za-z0-9_-]", "_");
    }

    public int port() { return ((InetSocketAddress) binding.localAddress()).getPort(); }

    public String url() {
        InetSocketAddress a = binding.localAddress();
        return "http://" + a.getHostString() + ":" + a.getPort();
    }

    public ActorSystem<Void> system() { return system; }

    public OpenAiServer server() { return server; }

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
