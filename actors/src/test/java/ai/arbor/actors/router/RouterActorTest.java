package ai.arbor.actors.router;

import ai.arbor.actors.router.select.WorkerSelectors;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.actors.worker.WorkerActor;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Routing over Receptionist-discovered workers: least-loaded balancing, release accounting, waiting for workers. */
class RouterActorTest {
    final ActorTestKit kit = ActorTestKit.create();

    @AfterEach
    void stop() { kit.shutdownTestKit(); }

    ActorRef<WorkerActor.Command> worker(String id, String model) {
        return kit.spawn(WorkerActor.create(id, model, new SyntheticEngine(128, 16, new int[] {1})));
    }

    RouterActor.RouteReply route(ActorRef<RouterActor.Command> router, String id) {
        TestProbe<RouterActor.RouteReply> p = kit.createTestProbe();
        router.tell(new RouterActor.Route(id, new int[] {5, 6, 7}, p.getRef()));
        return p.receiveMessage(Duration.ofSeconds(5));
    }

    void awaitWorkers(ActorRef<RouterActor.Command> router, int n) {
        TestProbe<RouterActor.Status> p = kit.createTestProbe();
        p.awaitAssert(Duration.ofSeconds(5), () -> {
            router.tell(new RouterActor.GetStatus(p.getRef()));
            assertEquals(n, p.receiveMessage().workers());
            return null;
        });
    }

    @Test
    void leastLoadedSpreadsAndReleasesFreeCapacity() {
        var router = kit.spawn(RouterActor.create("m", WorkerSelectors.create("least-loaded"), Duration.ofSeconds(1)));
        var a = worker("a", "m");
        var b = worker("b", "m");
        worker("other", "another-model");
        awaitWorkers(router, 2);
        Map<ActorRef<WorkerActor.Command>, Integer> count = new HashMap<>();
        for (int i = 0; i < 4; i++) {
            var r = (RouterActor.Routed) route(router, "r" + i);
            count.merge(r.worker(), 1, Integer::sum);
        }
        assertEquals(Map.of(a, 2, b, 2), count);
        // a fifth request makes one worker busier; releasing it and the first request of the other worker
        // leaves that other worker the least loaded, so the next request goes there
        var fifth = (RouterActor.Routed) route(router, "r4");
        ActorRef<WorkerActor.Command> other = fifth.worker().equals(a) ? b : a;
        for (int i = 0; i < 4; i++) {
            var again = (RouterActor.Routed) route(router, "probe" + i);
            router.tell(new RouterActor.Release("probe" + i));
            assertEquals(other, again.worker(), "the less loaded worker wins every time");
        }
    }

    @Test
    void requestsWaitForAWorkerThenTimeOut() {
        var router = kit.spawn(RouterActor.create("lonely", WorkerSelectors.create("round-robin"), Duration.ofMillis(300)));
        assertInstanceOf(RouterActor.NoWorkers.class, route(router, "r1"));
        TestProbe<RouterActor.RouteReply> p = kit.createTestProbe();
        router.tell(new RouterActor.Route("r2", new int[] {1}, p.getRef()));
        worker("late", "lonely");
        assertInstanceOf(RouterActor.Routed.class, p.receiveMessage(Duration.ofSeconds(5)));
    }

    @Test
    void unknownModeIsRejectedWithTheKnownOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> WorkerSelectors.create("no-such-mode"));
        assertTrue(e.getMessage().contains("least-loaded"), e.getMessage());
    }

    @Test
    void theRouterStartsTheRequestAtTheWorkerItPicks() {
        var router = kit.spawn(RouterActor.create("m", WorkerSelectors.create("least-loaded"), Duration.ofSeconds(1)));
        var w = worker("a", "m");
        awaitWorkers(router, 1);
        TestProbe<RouterActor.RouteReply> routed = kit.createTestProbe();
        TestProbe<WorkerActor.Reply> replies = kit.createTestProbe();
        var generate = new WorkerActor.Generate(new ai.arbor.gpu.protocol.EngineRequest("r", new int[] {5, 6, 7},
                ai.arbor.gpu.protocol.SamplingParams.greedy(2)), replies.getRef());
        router.tell(new RouterActor.Route("r", new int[] {5, 6, 7}, routed.getRef(), java.util.List.of(generate)));
        assertEquals(w, ((RouterActor.Routed) routed.receiveMessage(Duration.ofSeconds(5))).worker());
        var out = (WorkerActor.Output) replies.receiveMessage(Duration.ofSeconds(5));
        assertEquals("r", out.requestId(), "the worker ran the Generate that came with the route");
    }

    @Test
    void aMovedRequestAvoidsTheWorkerItLeftAndCountsOnceWhereItNowRuns() {
        var router = kit.spawn(RouterActor.create("m", WorkerSelectors.create("least-loaded"), Duration.ofMillis(300)));
        var a = worker("a", "m");
        var b = worker("b", "m");
        awaitWorkers(router, 2);
        var first = (RouterActor.Routed) route(router, "r");
        ActorRef<WorkerActor.Command> other = first.worker().equals(a) ? b : a;
        TestProbe<RouterActor.RouteReply> p = kit.createTestProbe();
        // least-loaded would pick the worker the request just left (its count is released by the new route)
        router.tell(new RouterActor.Route("r", new int[] {5, 6, 7, 8}, p.getRef(), java.util.List.of(),
                java.util.Set.of(first.worker())));
        assertEquals(other, ((RouterActor.Routed) p.receiveMessage(Duration.ofSeconds(5))).worker());
        TestProbe<RouterActor.Status> status = kit.createTestProbe();
        router.tell(new RouterActor.GetStatus(status.getRef()));
        assertEquals(1, status.receiveMessage().activeRequests(), "the moved request counts once");
        // with every worker avoided the route waits for another, then fails
        router.tell(new RouterActor.Route("s", new int[] {1}, p.getRef(), java.util.List.of(), java.util.Set.of(a, b)));
        assertInstanceOf(RouterActor.NoWorkers.class, p.receiveMessage(Duration.ofSeconds(5)));
    }
}
