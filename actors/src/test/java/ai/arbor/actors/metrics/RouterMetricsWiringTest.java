package ai.arbor.actors.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.LoadSharing;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.router.select.KvCostSelector;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.actors.router.select.WorkerSelectors;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.protocol.KvEvent;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The router's real parts record its metrics: KV events applied by the indexer, hit rate and overhead per decision. */
class RouterMetricsWiringTest {
    private static final int BS = 4;
    private static ActorTestKit kit;

    @BeforeAll
    static void start() {
        ArborMetrics.start(Duration.ofSeconds(1));
        kit = ActorTestKit.create();
    }

    @AfterAll
    static void stop() { kit.shutdownTestKit(); }

    @Test
    void kvRoutingRecordsEventsHitRateAndSelectTime() throws Exception {
        InProcessKvEventBus bus = new InProcessKvEventBus();
        try (KvRouting routing = KvRouting.start("m-wire", bus, Optional.empty(), LoadSharing.none(),
                KvRouting.Settings.defaults(BS))) {
            TestProbe<WorkerActor.Command> cached = kit.createTestProbe();
            TestProbe<WorkerActor.Command> cold = kit.createTestProbe();
            int[] prompt = new int[8 * BS];
            for (int i = 0; i < prompt.length; i++) prompt[i] = 10 + i;
            // the first 6 of the prompt's 8 blocks are cached on one worker
            int[] stored = java.util.Arrays.copyOf(prompt, 6 * BS);
            long[] hashes = new long[6];
            for (int i = 0; i < 6; i++) hashes[i] = 500 + i;
            KvEventPublisher p = bus.publisher("m-wire", WorkerIds.of(kit.system(), cached.ref()));
            p.onKvEvents(List.of(new KvEvent.BlockStored(0, null, hashes, stored, BS)));
            assertTrue(p.flush(5000));

            KvCostSelector selector = new KvCostSelector(kit.system(), routing, new Random(1));
            selector.select(new WorkerSelector.RoutingRequest("r1", prompt), List.of(
                    new WorkerSelector.WorkerLoad(cold.ref(), 0, 0), new WorkerSelector.WorkerLoad(cached.ref(), 0, 0)));
            PrometheusNamesTest.awaitAll("arbor_router_kv_events_applied_total{model=\"m-wire\"} 1.0",
                    "arbor_router_kv_hit_rate{model=\"m-wire\"} 0.75",
                    "arbor_router_overhead_seconds_count{model=\"m-wire\",stage=\"select\"} 1.0");
        } finally {
            bus.close();
        }
    }

    @Test
    void routerActorRecordsRouteOverhead() throws Exception {
        TestProbe<WorkerActor.Command> worker = kit.createTestProbe();
        kit.system().receptionist().tell(Receptionist.register(WorkerActor.serviceKey("m-route-actor"), worker.ref()));
        var router = kit.spawn(RouterActor.create("m-route-actor", WorkerSelectors.create("round-robin"),
                Duration.ofSeconds(5)));
        TestProbe<RouterActor.RouteReply> reply = kit.createTestProbe();
        router.tell(new RouterActor.Route("r1", new int[] {1, 2, 3}, reply.ref()));
        reply.expectMessageClass(RouterActor.Routed.class, Duration.ofSeconds(10));
        PrometheusNamesTest.awaitAll("arbor_router_overhead_seconds_count{model=\"m-route-actor\",stage=\"route\"} 1.0");
    }
}
