package ai.arbor.cluster.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.frontend.Frontend;
import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.LoadSharing;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.router.select.KvCostSelector;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.actors.router.select.WorkerSelectors;
import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.worker.LocalReplies;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.cluster.node.NodePekkoConfig;
import ai.arbor.cluster.node.NodeSettings;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.KvEvent;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A cluster's request path, with nodes as actor systems forming a real cluster in this JVM (remoting and Jackson CBOR
 * between them): a frontend routes through the same {@link Frontend} and {@link RouterActor} as {@code arbor serve},
 * over the workers on reachable members. Requests spread over workers, a request whose worker's node leaves mid-stream
 * continues on another, and a worker on the frontend's own node hands its tokens over in one hop. Embeddings take the
 * same router to workers on other nodes, and move when theirs leaves.
 */
class ClusterRequestPathTest {
    private static final String MODEL = "counting";
    private final List<ActorSystem<Void>> systems = new ArrayList<>();

    @AfterEach
    void stopAll() {
        systems.forEach(ActorSystem::terminate);
        systems.forEach(s -> s.getWhenTerminated().toCompletableFuture().join());
    }

    private ActorSystem<Void> node(String roles) {
        NodeSettings settings = NodeSettings.from(ConfigFactory.parseMap(Map.of(
                "arbor.node.roles", roles, "arbor.node.remoting-port", freePort(), "arbor.node.cluster-name", "test",
                "arbor.node.drain-timeout", "5s")).withFallback(ConfigFactory.load()));
        Config config = NodePekkoConfig.build(settings, ConfigFactory.parseString("pekko.loglevel = WARNING").withFallback(ConfigFactory.load()));
        // a classic system, so tests can spawn top-level actors from outside
        ActorSystem<Void> system = Adapter.toTyped(org.apache.pekko.actor.ActorSystem.create("test", config));
        systems.add(system);
        Cluster.get(system).manager().tell(Join.create(Cluster.get(systems.get(0)).selfMember().address()));
        return system;
    }

    private static ActorRef<WorkerActor.Command> startWorker(ActorSystem<Void> system, CountingEngine engine) {
        return Adapter.spawn(
                Adapter.toClassic(system),
                WorkerActor.create(system.address().toString(), MODEL, engine), "worker");
    }

    private void awaitUp(int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            boolean allUp = systems.stream().allMatch(s -> {
                int up = 0;
                for (var m : Cluster.get(s).state().getMembers()) if (m.status() == MemberStatus.up()) up++;
                return up == n;
            });
            if (allUp) return;
            sleep(100);
        }
        throw new AssertionError("cluster of " + n + " did not come up");
    }

    /** The frontend every node with that role runs: {@link Frontend#start}, as {@code ArborNode} calls it. */
    private static Frontend frontend(ActorSystem<Void> system, WorkerSelector selector, Duration workerWait) {
        return Frontend.start(system, MODEL, selector, new ByteTokenizer(),
                ArborSettings.from(ArborConfig.load(Map.of("arbor.frontend.worker-wait", workerWait.toMillis() + "ms",
                        "arbor.frontend.migration-limit", 2), null, Map.of())).frontend());
    }

    private static Frontend frontend(ActorSystem<Void> system) {
        return frontend(system, WorkerSelectors.create("least-loaded"), Duration.ofSeconds(5));
    }

    /** Runs a request of the prompt {1, 2, last} to its end; a {@link CountingEngine} answers last+1, last+2, … */
    private static Streams.Running run(ActorSystem<Void> system, Frontend f, String id, int last, int maxTokens)
            throws Exception {
        return new Streams.Running(f, Streams.spec(id, new int[] {1, 2, last}, maxTokens), system)
                .finish(Duration.ofSeconds(15));
    }

    @Test
    void spreadsRequestsOverWorkersAndMigratesWhenOneLeaves() throws Exception {
        TwoWorkers c = twoWorkers(50);
        Frontend f = frontend(c.frontend());
        awaitWorkers(c.frontend(), f, 2);
        for (int i = 0; i < 4; i++) {
            Streams.Running r = run(c.frontend(), f, "r" + i, 10 * i + 20, 5);
            assertArrayEquals(Streams.counting(10 * i + 21, 5), r.tokens(), "r" + i);
        }
        assertTrue(!c.e1().seen.isEmpty() && !c.e2().seen.isEmpty(),
                "both workers should take requests: " + c.e1().seen + " / " + c.e2().seen);

        // A long request; its worker's node goes away mid-stream.
        Streams.Running longOne = new Streams.Running(f, Streams.spec("long", new int[] {1, 2, 40}, 60), c.frontend())
                .awaitTokens(3, Duration.ofSeconds(10));
        ActorSystem<Void> serving = c.e1().seen.containsKey("long") ? c.w1() : c.w2();
        CountingEngine other = serving == c.w1() ? c.e2() : c.e1();
        serving.terminate();
        longOne.finish(Duration.ofSeconds(30));
        assertArrayEquals(Streams.counting(41, 60), longOne.tokens(), "the stream continues without gaps or repeats");
        assertEquals(FinishReason.LENGTH, longOne.reason());
        assertEquals(new GenerationEvent.Usage(3, 60, 0), longOne.usage(), "usage counts the original prompt and every token");
        assertTrue(other.seen.containsKey("long#m1"), "the rest ran on the other worker: " + other.seen.keySet());
    }

    @Test
    void embeddingsGoThroughTheRouterToWorkersOnOtherNodesAndMoveWhenOneLeaves() throws Exception {
        TwoWorkers c = twoWorkers(1);
        Frontend f = frontend(c.frontend());
        awaitWorkers(c.frontend(), f, 2);
        List<int[]> inputs = List.of(new int[] {3, 4, 5}, new int[] {7});
        for (int i = 0; i < 4; i++) {
            float[][] v = f.embed("e" + i, inputs).get(15, TimeUnit.SECONDS);
            assertEquals(2, v.length);
            assertArrayEquals(CountingEngine.vectorOf(inputs.get(0)), v[0], "e" + i);
            assertArrayEquals(CountingEngine.vectorOf(inputs.get(1)), v[1], "e" + i);
        }
        // least-loaded: each embedding was released before the next came, so equal workers take turns
        assertEquals(2, c.e1().embedsDone.get(), "worker 1's share");
        assertEquals(2, c.e2().embedsDone.get(), "worker 2's share");

    }

    @Test
    void anEmbeddingMovesToAnotherWorkerWhenItsWorkersNodeLeaves() throws Exception {
        TwoWorkers c = twoWorkers(1);
        Frontend f = frontend(c.frontend());
        awaitWorkers(c.frontend(), f, 2);
        // neither engine answers until told: the worker that took it must not answer before its node is gone
        c.e1().holdEmbeddings = true;
        c.e2().holdEmbeddings = true;
        List<int[]> inputs = List.of(new int[] {3, 4, 5}, new int[] {7});
        CompletableFuture<float[][]> moving = f.embed("moving", inputs);
        awaitTrue(() -> c.e1().embedsReceived.get() + c.e2().embedsReceived.get() == 1, "the embedding reached a worker");
        boolean onFirst = c.e1().embedsReceived.get() == 1;
        CountingEngine other = onFirst ? c.e2() : c.e1();
        other.holdEmbeddings = false;
        (onFirst ? c.w1() : c.w2()).terminate();
        float[][] moved = moving.get(30, TimeUnit.SECONDS);
        assertArrayEquals(CountingEngine.vectorOf(inputs.get(0)), moved[0]);
        assertArrayEquals(CountingEngine.vectorOf(inputs.get(1)), moved[1]);
        assertEquals(1, other.embedsDone.get(), "the other worker computed it");
    }

    @Test
    void aWorkerOnTheFrontendsNodeHandsItsTokensOverInOneHop() throws Exception {
        ActorSystem<Void> both = node("frontend,worker");
        ActorSystem<Void> remote = node("worker");
        awaitUp(2);
        CountingEngine local = new CountingEngine(1);
        CountingEngine far = new CountingEngine(1);
        startWorker(both, local);
        startWorker(remote, far);
        Frontend f = frontend(both, WorkerSelectors.create("round-robin"), Duration.ofSeconds(5));
        awaitWorkers(both, f, 2);
        for (int i = 0; i < 4; i++) run(both, f, "r" + i, 20, 5);
        assertEquals(2, local.seen.size(), "round-robin: " + local.seen.keySet() + " / " + far.seen.keySet());
        assertEquals(2, far.seen.size());
        // the co-located worker's every output went straight into its request's stream, the remote one's as messages
        LocalReplies.Deliveries here = LocalReplies.get(both).deliveries();
        LocalReplies.Deliveries there = LocalReplies.get(remote).deliveries();
        assertEquals(new LocalReplies.Deliveries(local.outputs.get(), 0), here);
        assertEquals(new LocalReplies.Deliveries(0, far.outputs.get()), there);
        assertEquals(10, here.direct());
    }

    /** Waits until the frontend's router lists {@code n} workers (registrations travel by gossip). */
    private static void awaitWorkers(ActorSystem<Void> system, Frontend f, int n) {
        TestProbe<RouterActor.Status> status = TestProbe.create(system);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        int seen = 0;
        while (seen < n && System.nanoTime() < deadline) {
            f.router().tell(new RouterActor.GetStatus(status.getRef()));
            seen = status.receiveMessage(Duration.ofSeconds(5)).workers();
            if (seen < n) sleep(100);
        }
        assertEquals(n, seen, "frontend never saw all workers");
    }

    private record TwoWorkers(ActorSystem<Void> frontend, ActorSystem<Void> w1, ActorSystem<Void> w2,
                              ActorRef<WorkerActor.Command> ref1, ActorRef<WorkerActor.Command> ref2,
                              CountingEngine e1, CountingEngine e2) {}

    /** A frontend node and two worker nodes whose engines take {@code stepMillis} per step. */
    private TwoWorkers twoWorkers(int stepMillis) {
        ActorSystem<Void> frontend = node("frontend");
        ActorSystem<Void> w1 = node("worker");
        ActorSystem<Void> w2 = node("worker");
        awaitUp(3);
        CountingEngine e1 = new CountingEngine(stepMillis);
        CountingEngine e2 = new CountingEngine(stepMillis);
        return new TwoWorkers(frontend, w1, w2, startWorker(w1, e1), startWorker(w2, e2), e1, e2);
    }

    @Test
    void kvModeSendsRequestsToTheWorkerThatHoldsTheirPrefix() throws Exception {
        TwoWorkers c = twoWorkers(1);
        int blockSize = 4;
        InProcessKvEventBus bus = new InProcessKvEventBus();
        KvRouting routing = KvRouting.start(MODEL, bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(blockSize));
        Frontend f = frontend(c.frontend(), new KvCostSelector(c.frontend(), routing, new Random(1)), Duration.ofSeconds(5));
        awaitWorkers(c.frontend(), f, 2);
        // worker 2 reports two cached blocks under the id the worker side derives from its own ref
        int[] prefix = {5, 6, 7, 8, 9, 10, 11, 12};
        KvEventPublisher events = bus.publisher(MODEL, WorkerIds.of(c.w2(), c.ref2()));
        events.onKvEvents(List.of(new KvEvent.BlockStored(0, null, new long[] {71, 72}, prefix, blockSize)));
        assertTrue(events.flush(5_000));

        for (int i = 0; i < 4; i++) {
            int[] prompt = Arrays.copyOf(prefix, prefix.length + 3);
            prompt[prefix.length] = 100 + i;
            prompt[prefix.length + 2] = 40;
            new Streams.Running(f, Streams.spec("p" + i, prompt, 2), c.frontend()).finish(Duration.ofSeconds(10));
        }
        assertEquals(4, c.e2().seen.size(), "every request with the cached prefix goes to worker 2: " + c.e2().seen.keySet());
        assertTrue(c.e1().seen.isEmpty(), c.e1().seen.keySet().toString());
        assertEquals(4, routing.stats().snapshot().decisions());
        routing.close();
    }

    @Test
    void theFrontendsSelectorChoosesTheWorkerAndHearsEveryReleaseWithItsLoad() throws Exception {
        TwoWorkers c = twoWorkers(1);
        List<String> calls = new CopyOnWriteArrayList<>();
        AtomicInteger maxActiveSeen = new AtomicInteger();
        WorkerSelector lastListed = new WorkerSelector() {
            @Override
            public ActorRef<WorkerActor.Command> select(RoutingRequest request, List<WorkerLoad> workers) {
                int active = workers.stream().mapToInt(WorkerLoad::activeRequests).sum();
                maxActiveSeen.accumulateAndGet(active, Math::max);
                return workers.get(workers.size() - 1).worker();
            }

            @Override
            public void onRouted(RoutingRequest request, ActorRef<WorkerActor.Command> worker) {
                calls.add("routed " + request.requestId() + " " + request.tokenIds().length);
            }

            @Override
            public void onReleased(String requestId, ActorRef<WorkerActor.Command> worker) {
                calls.add("released " + requestId);
            }
        };
        Frontend f = frontend(c.frontend(), lastListed, Duration.ofSeconds(5));
        awaitWorkers(c.frontend(), f, 2);
        for (int i = 0; i < 3; i++) run(c.frontend(), f, "r" + i, 40, 2);
        // least-loaded would have alternated; this selector sends everything to one worker
        assertEquals(3, c.e1().seen.size() + c.e2().seen.size());
        assertTrue(c.e1().seen.isEmpty() || c.e2().seen.isEmpty(), c.e1().seen + " / " + c.e2().seen);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (calls.size() < 6 && System.nanoTime() < deadline) sleep(20);
        // each request is released once, after it was routed (the next one may be routed just before: the release
        // travels from the request's own actor), and the load never piles up
        assertEquals(6, calls.size(), calls.toString());
        for (int i = 0; i < 3; i++) {
            int routed = calls.indexOf("routed r" + i + " 3");
            assertTrue(routed >= 0 && routed < calls.indexOf("released r" + i), calls.toString());
        }
        assertTrue(maxActiveSeen.get() <= 1, "requests in flight seen by the selector: " + maxActiveSeen.get());
    }

    @Test
    void noWorkerLeftEndsTheStreamWithAClearError() {
        ActorSystem<Void> system = node("frontend");
        awaitUp(1);
        Frontend f = frontend(system, WorkerSelectors.create("least-loaded"), Duration.ofSeconds(1));
        GenerationEvent.Failure failure = assertThrows(GenerationEvent.Failure.class, () -> run(system, f, "alone", 40, 5));
        assertEquals(503, failure.status());
        assertTrue(failure.getMessage().contains("no worker"), failure.getMessage());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out: " + what);
            sleep(20);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
