package ai.arbor.cluster.routing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.cluster.node.NodePekkoConfig;
import ai.arbor.cluster.node.NodeSettings;
import ai.arbor.gpu.engine.EngineRequest;
import ai.arbor.gpu.engine.FinishReason;
import ai.arbor.gpu.engine.RequestOutput;
import ai.arbor.gpu.sample.SamplingParams;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        ActorSystem<Void> frontend = node("frontend");
        ActorSystem<Void> w1 = node("worker");
        ActorSystem<Void> w2 = node("worker");
        awaitUp(3);
        CountingEngine e1 = new CountingEngine(20);
        CountingEngine e2 = new CountingEngine(20);
        startWorker(w1, e1);
        startWorker(w2, e2);
        ClusterWorkers.Refs refs = ClusterWorkers.start(frontend, MODEL, 2, Duration.ofSeconds(5));
        TestProbe<RouterActor.RouteReply> routes = TestProbe.create(frontend);
        refs.router().tell(new RouterActor.Route("x", new int[] {1}, routes.getRef()));
        assertEquals(new RouterActor.Routed("x", refs.worker()), routes.receiveMessage(Duration.ofSeconds(5)));
        ActorRef<WorkerActor.Command> workers = refs.worker();
        // Receptionist registrations reach other nodes by gossip: wait until this frontend sees both workers.
        TestProbe<RouterActor.Status> status = TestProbe.create(frontend);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        int seen = 0;
        while (seen < 2 && System.nanoTime() < deadline) {
            refs.router().tell(new RouterActor.GetStatus(status.getRef()));
            seen = status.receiveMessage(Duration.ofSeconds(5)).workers();
            if (seen < 2) sleep(100);
        }
        assertEquals(2, seen, "frontend never saw both workers");

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
        ActorSystem<Void> serving = e1.seen.containsKey("long") ? w1 : w2;
        serving.terminate();
        int[] whole = collect(streaming, "long", tokens, Duration.ofSeconds(20));
        assertArrayEquals(IntStream.rangeClosed(1001, 1060).toArray(), whole, "stream must continue without gaps or repeats");
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
