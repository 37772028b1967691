package ai.arbor.actors.router.kv;

import ai.arbor.actors.kvevents.InProcessKvEventBus;
import ai.arbor.actors.kvevents.KvEventBatch;
import ai.arbor.actors.kvevents.KvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.kvevents.KvEventSink;
import ai.arbor.actors.router.snapshot.IndexSnapshot;
import ai.arbor.actors.router.snapshot.IndexSnapshotStore;
import ai.arbor.gpu.protocol.KvEvent;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KvRoutingTest {
    static final int BS = 4;
    final Random rnd = new Random(9);

    /** The in-process bus with a switch to play "NATS is down". */
    static class SwitchableBus implements KvEventBus {
        final InProcessKvEventBus inner = new InProcessKvEventBus();
        volatile boolean healthy = true;
        int purges;

        @Override public KvEventPublisher publisher(String model, long workerId) { return inner.publisher(model, workerId); }
        @Override public AutoCloseable subscribe(String model, long after, KvEventSink sink) { return inner.subscribe(model, after, sink); }
        @Override public boolean healthy() { return healthy; }
        @Override public void purge(String model) { purges++; }
        @Override public void requestResync(String model, long workerId) { inner.requestResync(model, workerId); }
        @Override public void close() { inner.close(); }
    }

    static final class MemoryStore implements IndexSnapshotStore {
        final Map<String, IndexSnapshot> saved = new HashMap<>();
        @Override public void save(String model, IndexSnapshot s) { saved.put(model, s); }
        @Override public Optional<IndexSnapshot> load(String model) { return Optional.ofNullable(saved.get(model)); }
        @Override public void delete(String model) { saved.remove(model); }
    }

    static int[] prompt(int blocks) {
        int[] t = new int[blocks * BS];
        for (int i = 0; i < t.length; i++) t[i] = 10 + i;
        return t;
    }

    static void publishCached(KvEventPublisher p, int[] tokens) throws InterruptedException {
        long[] hashes = new long[tokens.length / BS];
        for (int i = 0; i < hashes.length; i++) hashes[i] = 1000 + i;
        p.onKvEvents(List.of(new KvEvent.BlockStored(0, null, hashes, tokens, BS)));
        assertTrue(p.flush(5000));
    }

    @Test
    void routesToTheCachedWorkerUntilItIsBusyAndFallsBackToLoadWhenEventsStop() throws Exception {
        SwitchableBus bus = new SwitchableBus();
        try (KvRouting routing = KvRouting.start("m", bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(BS))) {
            int[] p = prompt(10);
            publishCached(bus.publisher("m", 22), p);
            long[] workers = {11, 22, 33};
            KvRouting.Decision d = routing.select(p, workers, new long[]{0, 0, 0}, null, rnd);
            assertEquals(22, d.workerId());
            assertEquals(10, d.overlapBlocks());
            assertEquals(40, d.cachedTokens());
            // 22 holds 15 blocks' worth of prompts in flight: recomputing 10 blocks elsewhere is cheaper
            d = routing.select(p, workers, new long[]{0, 60, 0}, null, rnd);
            assertNotEquals(22, d.workerId());
            // a pin wins over the cost
            assertEquals(33, routing.select(p, workers, new long[]{0, 0, 500}, 33L, rnd).workerId());
            // NATS down: overlap is not trusted, load alone decides
            bus.healthy = false;
            d = routing.select(p, workers, new long[]{5, 0, 5}, null, rnd);
            assertEquals(22, d.workerId());
            assertTrue(d.loadOnly());
            d = routing.select(p, workers, new long[]{0, 5, 5}, null, rnd);
            assertEquals(11, d.workerId(), "cache ignored while events are not flowing");
            bus.healthy = true;
            assertEquals(22, routing.select(p, workers, new long[]{0, 0, 0}, null, rnd).workerId(), "recovers by itself");

            RoutingStats.Snapshot s = routing.stats().snapshot();
            assertEquals(6, s.decisions());
            assertEquals(2, s.loadOnlyDecisions());
            assertEquals(60, s.requestBlocks());
            assertEquals(10 + 0 + 0 + 0 + 0 + 10, s.overlapBlocks());
            assertTrue(s.meanOverheadMicros() > 0);
            assertEquals(1, routing.indexer().stats().eventsApplied());
        }
    }

    @Test
    void aRoutedPrefixCountsOnItsWorkerBeforeItsEventsArriveAndLoadIsWhatEachWorkerMustCompute() throws Exception {
        SwitchableBus bus = new SwitchableBus();
        try (KvRouting routing = KvRouting.start("m", bus, Optional.empty(), LoadSharing.none(), KvRouting.Settings.defaults(BS))) {
            long[] workers = {11, 22, 33};
            int[] first = prompt(10);
            KvRouting.Decision d = routing.select(first, workers, new long[3], null, rnd);
            assertEquals(0, d.overlapBlocks(), "nothing cached anywhere yet");
            routing.routed("first", d.workerId(), first.length, d);
            assertEquals(40, routing.uncachedTokensInFlight(d.workerId()), "it computes its whole prompt");

            // the same prefix with a new last block, before any KV event: it follows the first request
            int[] second = java.util.Arrays.copyOf(first, first.length + BS);
            KvRouting.Decision d2 = routing.select(second, workers, loads(routing, workers), null, rnd);
            assertEquals(d.workerId(), d2.workerId(), "its 10 blocks are pending there: 1 block to compute + 10 in flight ties with 11 elsewhere; the overlap wins the tie");
            assertEquals(10, d2.overlapBlocks());
            routing.routed("second", d2.workerId(), second.length, d2);
            assertEquals(40 + 4, routing.uncachedTokensInFlight(d.workerId()), "only the second's new block adds load");

            routing.released("first");
            routing.released("second");
            assertEquals(0, routing.uncachedTokensInFlight(d.workerId()));
            // within the grace period the blocks still count there (the events are on their way)
            assertEquals(d.workerId(), routing.select(second, workers, new long[3], null, rnd).workerId());
            routing.removeWorker(d.workerId());
            long[] others = java.util.Arrays.stream(workers).filter(w -> w != d.workerId()).toArray();
            assertEquals(0, routing.select(second, others, new long[2], null, rnd).overlapBlocks());
        }
    }

    private static long[] loads(KvRouting routing, long[] workers) {
        long[] l = new long[workers.length];
        for (int i = 0; i < workers.length; i++) l[i] = routing.uncachedTokensInFlight(workers[i]);
        return l;
    }

    @Test
    void restartRestoresTheSnapshotAndResetPurgesEverything() throws Exception {
        SwitchableBus bus = new SwitchableBus();
        MemoryStore store = new MemoryStore();
        int[] p = prompt(6);
        KvRouting.Settings settings = new KvRouting.Settings(BS, 1, 0, false, Duration.ZERO, 1);
        try (KvRouting first = KvRouting.start("m", bus, Optional.of(store), LoadSharing.none(), settings)) {
            publishCached(bus.publisher("m", 5), p);
            assertTrue(first.snapshotIfDue(1));
            assertFalse(first.snapshotIfDue(1), "nothing new to save");
        }
        try (KvRouting second = KvRouting.start("m", bus, Optional.of(store), LoadSharing.none(), settings)) {
            // no new traffic: the restored index already knows worker 5's cache
            assertEquals(6, second.indexer().findMatches(p).depth(5));
        }
        KvRouting.Settings reset = new KvRouting.Settings(BS, 1, 0, true, Duration.ZERO, 1);
        try (KvRouting third = KvRouting.start("m", bus, Optional.of(store), LoadSharing.none(), reset)) {
            assertEquals(0, third.indexer().findMatches(p).depth(5));
            assertTrue(store.saved.isEmpty());
            assertEquals(1, bus.purges);
        }
    }
    @Test
    void eventsReplayedWhileStartingAreInTheNextSnapshot() throws Exception {
        // a durable bus may apply the whole replay before start() returns (JetStream often does): those events are in
        // no stored snapshot yet, so the first snapshot must still be due
        int[] p = prompt(3);
        KvEventBatch stored = new KvEventBatch(5, List.of(ai.arbor.actors.kvevents.BlockEvent.fromEngine(
                new KvEvent.BlockStored(0, null, new long[]{1, 2, 3}, p, BS))));
        SwitchableBus replaying = new SwitchableBus() {
            @Override public AutoCloseable subscribe(String model, long after, KvEventSink sink) {
                sink.accept(after + 1, stored);
                return super.subscribe(model, after, sink);
            }
        };
        MemoryStore store = new MemoryStore();
        KvRouting.Settings settings = new KvRouting.Settings(BS, 1, 0, false, Duration.ZERO, 1);
        try (KvRouting routing = KvRouting.start("m", replaying, Optional.of(store), LoadSharing.none(), settings)) {
            assertEquals(1, routing.indexer().stats().eventsApplied());
            assertTrue(routing.snapshotIfDue(1), "the replayed event is not in any snapshot yet");
        }
        try (KvRouting restored = KvRouting.start("m", new SwitchableBus(), Optional.of(store), LoadSharing.none(), settings)) {
            assertEquals(3, restored.indexer().findMatches(p).depth(5));
        }
    }
}
