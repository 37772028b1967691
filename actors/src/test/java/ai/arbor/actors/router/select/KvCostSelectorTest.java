package ai.arbor.actors.router.select;

import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.LoadSharing;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.protocol.KvEvent;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Mode {@code kv} inside the real RouterActor with real WorkerActors (synthetic engines, events published by hand). */
class KvCostSelectorTest {
    static final ActorTestKit kit = ActorTestKit.create();
    static final int BS = 16;

    @AfterAll
    static void stop() { kit.shutdownTestKit(); }

    /** Waits until the router lists {@code n} workers (they register with the Receptionist as they start). */
    static void awaitWorkers(ActorRef<RouterActor.Command> router, int n) throws InterruptedException {
        TestProbe<RouterActor.Status> status = kit.createTestProbe();
        for (int i = 0; i < 100; i++) {
            router.tell(new RouterActor.GetStatus(status.getRef()));
            if (status.receiveMessage().workers() == n) return;
            Thread.sleep(20);
        }
    }

    @Test
    void routerSendsAPromptToTheWorkerThatHasItCachedAndForgetsWorkersThatLeave() throws Exception {
        InProcessKvEventBus bus = new InProcessKvEventBus();
        try (KvRouting routing = KvRouting.start("kv-m", bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(BS))) {
            KvCostSelector selector = new KvCostSelector(kit.system(), routing, new Random(1));
            ActorRef<RouterActor.Command> router = kit.spawn(RouterActor.create("kv-m", selector, Duration.ofSeconds(5)));
            List<ActorRef<WorkerActor.Command>> workers = List.of(
                    kit.spawn(WorkerActor.create("w0", "kv-m", new SyntheticEngine(4096, BS, new int[]{0}))),
                    kit.spawn(WorkerActor.create("w1", "kv-m", new SyntheticEngine(4096, BS, new int[]{0}))),
                    kit.spawn(WorkerActor.create("w2", "kv-m", new SyntheticEngine(4096, BS, new int[]{0}))));
            awaitWorkers(router, 3);

            int[] prompt = new int[8 * BS + 5];
            for (int i = 0; i < prompt.length; i++) prompt[i] = 1 + i;
            ActorRef<WorkerActor.Command> cached = workers.get(2);
            KvEventPublisher pub = bus.publisher("kv-m", WorkerIds.of(kit.system(), cached));
            long[] hashes = new long[8];
            for (int b = 0; b < 8; b++) hashes[b] = 500 + b;
            pub.onKvEvents(List.of(new KvEvent.BlockStored(0, null, hashes, java.util.Arrays.copyOf(prompt, 8 * BS), BS)));
            assertTrue(pub.flush(5000));

            TestProbe<RouterActor.RouteReply> reply = kit.createTestProbe();
            router.tell(new RouterActor.Route("r1", prompt, reply.getRef()));
            RouterActor.Routed routed = reply.expectMessageClass(RouterActor.Routed.class);
            assertEquals(cached, routed.worker());
            assertEquals(8 * BS, selector.lastDecision().cachedTokens());

            // the cached worker leaves: its blocks leave the index, the next request goes elsewhere
            kit.stop(cached);
            for (int i = 0; i < 100 && routing.indexer().stats().workers() > 0; i++) Thread.sleep(20);
            assertEquals(0, routing.indexer().stats().workers());
            router.tell(new RouterActor.Route("r2", prompt, reply.getRef()));
            assertNotEquals(cached, reply.expectMessageClass(RouterActor.Routed.class).worker());
            assertEquals(2, routing.stats().snapshot().decisions());
        } finally {
            bus.close();
        }
    }

    @Test
    void anEmbeddingIsPlacedByLoadAndAllItsTokensCountAsComputed() throws Exception {
        InProcessKvEventBus bus = new InProcessKvEventBus();
        try (KvRouting routing = KvRouting.start("kv-e", bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(BS))) {
            KvCostSelector selector = new KvCostSelector(kit.system(), routing, new Random(1));
            ActorRef<RouterActor.Command> router = kit.spawn(RouterActor.create("kv-e", selector, Duration.ofSeconds(5)));
            List<ActorRef<WorkerActor.Command>> workers = List.of(
                    kit.spawn(WorkerActor.create("e0", "kv-e", new SyntheticEngine(4096, BS, new int[]{0}))),
                    kit.spawn(WorkerActor.create("e1", "kv-e", new SyntheticEngine(4096, BS, new int[]{0}))));
            awaitWorkers(router, 2);
            TestProbe<RouterActor.Status> status = kit.createTestProbe();
            TestProbe<RouterActor.RouteReply> reply = kit.createTestProbe();
            TestProbe<WorkerActor.EmbedReply> vectors = kit.createTestProbe();
            int[] input = new int[40 * BS];
            java.util.Arrays.fill(input, 3);
            router.tell(new RouterActor.RouteEmbedding("e", input.length,
                    new WorkerActor.Embed("e", List.of(input), vectors.getRef()), reply.getRef(), java.util.Set.of()));
            ActorRef<WorkerActor.Command> busy = reply.expectMessageClass(RouterActor.Routed.class).worker();
            // the router sent the worker the Embed: its (synthetic) engine answers that it has no embeddings
            assertEquals(WorkerActor.EmbedFailed.Why.UNSUPPORTED,
                    vectors.expectMessageClass(WorkerActor.EmbedFailed.class).why());
            assertEquals(0, selector.lastDecision().overlapBlocks(), "an embedding reuses no prefix");
            assertEquals(input.length, routing.uncachedTokensInFlight(WorkerIds.of(kit.system(), busy)));

            // until released, its tokens are load: a short prompt goes to the other worker
            router.tell(new RouterActor.Route("g", new int[] {1, 2, 3}, reply.getRef()));
            assertNotEquals(busy, reply.expectMessageClass(RouterActor.Routed.class).worker());
            router.tell(new RouterActor.Release("e"));
            router.tell(new RouterActor.Release("g"));
            router.tell(new RouterActor.GetStatus(status.getRef()));
            assertEquals(0, status.receiveMessage().activeRequests());
            assertEquals(0, routing.uncachedTokensInFlight(WorkerIds.of(kit.system(), busy)));
            assertTrue(workers.contains(busy));
        } finally {
            bus.close();
        }
    }

    @Test
    void workerIdsAreStablePerActorAndDistinctBetweenActors() {
        var a = kit.spawn(WorkerActor.create("a", "ids", new SyntheticEngine(64, BS, new int[]{0})));
        var b = kit.spawn(WorkerActor.create("b", "ids", new SyntheticEngine(64, BS, new int[]{0})));
        assertEquals(WorkerIds.of(kit.system(), a), WorkerIds.of(kit.system(), a));
        assertNotEquals(WorkerIds.of(kit.system(), a), WorkerIds.of(kit.system(), b));
    }

    @Test
    void randomModeIsRegistered() {
        assertInstanceOf(RandomSelector.class, WorkerSelectors.create("random"));
    }
}
