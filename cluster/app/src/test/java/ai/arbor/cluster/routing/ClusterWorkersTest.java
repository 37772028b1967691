package ai.arbor.cluster.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.router.KvCostSelector;
import ai.arbor.actors.router.KvRouting;
import ai.arbor.actors.router.LoadSharing;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.WorkerIds;
import ai.arbor.actors.router.WorkerSelector;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.cluster.node.NodePekkoConfig;
import ai.arbor.cluster.node.NodeSettings;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.KvEvent;
import ai.arbor.gpu.protocol.SamplingParams;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.IntStream;
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
 * A frontend and two workers as three actor systems forming a real cluster in this JVM (remoting and Jackson CBOR
 * between them): requests spread over workers, and a request whose worker leaves mid-stream continues on the other.
 */
class ClusterWorkersTest {
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

    private static EngineRequest request(String id, int last, int maxTokens) {
        return new EngineRequest(id, new int[] {1, 2, last}, SamplingParams.greedy(maxTokens));
    }

    /** Collects one request's stream until its last output; returns the tokens in order. */
    private static int[] collect(TestProbe<WorkerActor.Reply> probe, String id, List<Integer> tokens, Duration timeout) {
        while (true) {
            WorkerActor.Reply reply = probe.receiveMessage(timeout);
            assertEquals(id, reply.requestId());
            if (reply instanceof WorkerActor.Rejected r) throw new AssertionError("rejected: " + r.reason());
            RequestOutput out = ((WorkerActor.Output) reply).output();
            for (int t : out.newTokenIds()) tokens.add(t);
            assertEquals(tokens.size(), out.outputTokens(), "output token count must cover the whole stream");
            assertEquals(3, out.promptTokens(), "prompt length must be the original one, even after a migration");
            if (out.finished()) {
                assertEquals(FinishReason.LENGTH, out.finishReason());
                return tokens.stream().mapToInt(Integer::intValue).toArray();
            }
        }
    }

    @Test
    void spreadsRequestsOverWorkersAndMigratesWhenOneLeaves() {
        TwoWorkers c = twoWorkers(20);
        ActorSystem<Void> frontend = c.frontend();
        CountingEngine e1 = c.e1();
        CountingEngine e2 = c.e2();
        ClusterWorkers.Refs refs = ClusterWorkers.start(frontend, MODEL, 2, Duration.ofSeconds(5));
        TestProbe<RouterActor.RouteReply> routes = TestProbe.create(frontend);
        refs.router().tell(new RouterActor.Route("x", new int[] {1}, routes.getRef()));
        assertEquals(new RouterActor.Routed("x", refs.worker()), routes.receiveMessage(Duration.ofSeconds(5)));
        ActorRef<WorkerActor.Command> workers = refs.worker();
        awaitWorkers(frontend, refs, 2);

        TestProbe<WorkerActor.Reply> probe = TestProbe.create(frontend);
        for (int i = 0; i < 4; i++) workers.tell(new WorkerActor.Generate(request("r" + i, 100 * i, 5), probe.getRef()));
        List<WorkerActor.Reply> all = probe.receiveSeveralMessages(20, Duration.ofSeconds(15));
        for (int i = 0; i < 4; i++) {
            String id = "r" + i;
            int[] tokens = all.stream().filter(r -> r.requestId().equals(id))
                    .flatMapToInt(r -> IntStream.of(((WorkerActor.Output) r).output().newTokenIds())).toArray();
            int base = 100 * i;
            assertArrayEquals(IntStream.rangeClosed(base + 1, base + 5).toArray(), tokens, id);
        }
        assertTrue(!e1.seen.isEmpty() && !e2.seen.isEmpty(), "both workers should take requests: " + e1.seen + " / " + e2.seen);

        // A long request; its worker's node goes away mid-stream.
        TestProbe<WorkerActor.Reply> streaming = TestProbe.create(frontend);
        workers.tell(new WorkerActor.Generate(request("long", 1000, 60), streaming.getRef()));
        WorkerActor.Reply first = streaming.receiveMessage(Duration.ofSeconds(10));
        List<Integer> tokens = new ArrayList<>();
        for (int t : ((WorkerActor.Output) first).output().newTokenIds()) tokens.add(t);
        ActorSystem<Void> serving = e1.seen.containsKey("long") ? c.w1() : c.w2();
        serving.terminate();
        int[] whole = collect(streaming, "long", tokens, Duration.ofSeconds(20));
        assertArrayEquals(IntStream.rangeClosed(1001, 1060).toArray(), whole, "stream must continue without gaps or repeats");
    }

    /** Waits until the frontend's ClusterWorkers lists {@code n} workers (registrations travel by gossip). */
    private static void awaitWorkers(ActorSystem<Void> frontend, ClusterWorkers.Refs refs, int n) {
        TestProbe<RouterActor.Status> status = TestProbe.create(frontend);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        int seen = 0;
        while (seen < n && System.nanoTime() < deadline) {
            refs.router().tell(new RouterActor.GetStatus(status.getRef()));
            seen = status.receiveMessage(Duration.ofSeconds(5)).workers();
            if (seen < n) sleep(100);
        }
        assertEquals(n, seen, "frontend never saw all workers");
    }

    /** Runs one request to its end (so the next one finds every worker idle). */
    private static void runToEnd(ActorSystem<Void> frontend, ActorRef<WorkerActor.Command> workers, String id, int[] prompt) {
        TestProbe<WorkerActor.Reply> probe = TestProbe.create(frontend);
        workers.tell(new WorkerActor.Generate(new EngineRequest(id, prompt, SamplingParams.greedy(2)), probe.getRef()));
        while (true) {
            WorkerActor.Reply reply = probe.receiveMessage(Duration.ofSeconds(10));
            if (reply instanceof WorkerActor.Rejected r) throw new AssertionError("rejected: " + r.reason());
            if (((WorkerActor.Output) reply).output().finished()) return;
        }
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
        ClusterWorkers.Refs refs = ClusterWorkers.start(c.frontend(), MODEL, 2, Duration.ofSeconds(5),
                new KvCostSelector(c.frontend(), routing, new Random(1)));
        awaitWorkers(c.frontend(), refs, 2);
        // worker 2 reports two cached blocks under the id the worker side derives from its own ref
        int[] prefix = {5, 6, 7, 8, 9, 10, 11, 12};
        KvEventPublisher events = bus.publisher(MODEL, WorkerIds.of(c.w2(), c.ref2()));
        events.onKvEvents(List.of(new KvEvent.BlockStored(0, null, new long[] {71, 72}, prefix, blockSize)));
        assertTrue(events.flush(5_000));

        for (int i = 0; i < 4; i++) {
            int[] prompt = java.util.Arrays.copyOf(prefix, prefix.length + 3);
            prompt[prefix.length] = 100 + i;
            runToEnd(c.frontend(), refs.worker(), "p" + i, prompt);
        }
        assertEquals(4, c.e2().seen.size(), "every request with the cached prefix goes to worker 2: " + c.e2().seen.keySet());
        assertTrue(c.e1().seen.isEmpty(), c.e1().seen.keySet().toString());
        assertEquals(4, routing.stats().snapshot().decisions());
        routing.close();
    }

    @Test
    void theFrontendsSelectorChoosesTheWorkerAndHearsEveryReleaseWithItsLoad() {
        TwoWorkers c = twoWorkers(1);
        List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger maxActiveSeen = new java.util.concurrent.atomic.AtomicInteger();
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
        ClusterWorkers.Refs refs = ClusterWorkers.start(c.frontend(), MODEL, 2, Duration.ofSeconds(5), lastListed);
        awaitWorkers(c.frontend(), refs, 2);
        for (int i = 0; i < 3; i++) runToEnd(c.frontend(), refs.worker(), "r" + i, new int[] {1, 2, 3});
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
        ActorSystem<Void> frontend = node("frontend");
        awaitUp(1);
        ClusterWorkers.Refs refs = ClusterWorkers.start(frontend, MODEL, 2, Duration.ofSeconds(1));
        TestProbe<RouterActor.RouteReply> routes = TestProbe.create(frontend);
        refs.router().tell(new RouterActor.Route("x", new int[] {1}, routes.getRef()));
        assertTrue(routes.receiveMessage(Duration.ofSeconds(5)) instanceof RouterActor.NoWorkers);
        ActorRef<WorkerActor.Command> workers = refs.worker();
        TestProbe<WorkerActor.Reply> probe = TestProbe.create(frontend);
        workers.tell(new WorkerActor.Generate(request("alone", 0, 5), probe.getRef()));
        WorkerActor.Reply reply = probe.receiveMessage(Duration.ofSeconds(5));
        assertTrue(reply instanceof WorkerActor.Rejected r && r.reason().contains("no worker"), reply.toString());
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
