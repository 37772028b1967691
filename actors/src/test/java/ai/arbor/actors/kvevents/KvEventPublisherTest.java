package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

class KvEventPublisherTest {
    static List<KvEvent> removals(long from, int n) {
        List<KvEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new KvEvent.BlockRemoved(from + i, new long[]{from + i}));
        return out;
    }

    @Test
    void batchesInOrderOffTheCallersThread() throws Exception {
        List<KvEventBatch> sent = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        try (KvEventPublisher p = new KvEventPublisher("t", 9, 10_000, 100, b -> {
            threads.add(Thread.currentThread().getName());
            sent.add(b);
        })) {
            for (int i = 0; i < 50; i++) p.onKvEvents(removals(i * 20L, 20));
            assertTrue(p.flush(5000));
            assertEquals(1000, p.published());
        }
        long expected = 0;
        for (KvEventBatch b : sent) {
            assertEquals(9, b.workerId());
            assertTrue(b.events().size() <= 100);
            for (BlockEvent e : b.events()) assertEquals(expected++, e.eventId());
        }
        assertEquals(1000, expected);
        assertFalse(threads.contains(Thread.currentThread().getName()));
    }

    @Test
    void aDownTransportNeverBlocksTheEngineAndAResyncRepairsWhatWasDropped() throws Exception {
        AtomicBoolean up = new AtomicBoolean(false);
        List<BlockEvent> delivered = new CopyOnWriteArrayList<>();
        EngineEvents engine = new EngineEvents(4, 99, 1);
        ai.arbor.actors.router.index.RadixIndex direct = new ai.arbor.actors.router.index.RadixIndex(4);
        try (KvEventPublisher p = new KvEventPublisher("t", 1, 100, 10, b -> {
            if (!up.get()) throw new java.io.IOException("nats down");
            delivered.addAll(b.events());
        })) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 500; i++) {
                KvEvent e = engine.next();
                direct.apply(1, BlockEvent.fromEngine(e));
                p.onKvEvents(List.of(e));
            }
            long micros = (System.nanoTime() - t0) / 1000;
            assertTrue(micros < 500_000, "500 events handed over in " + micros + " µs");
            // a batch of at most 10 in the sender plus 100 queued (twice, if a resync started before the first send
            // failed): the rest is dropped and counted
            assertTrue(p.dropped() >= 280, "dropped " + p.dropped());
            for (int i = 0; i < 200 && p.sendFailures() == 0; i++) Thread.sleep(10);
            assertTrue(p.sendFailures() > 0, "the sender keeps retrying");
            up.set(true);
            assertTrue(p.flush(5000));
            // one resync repairs the drops; a second one when the sender took the first before the producer's last
            // drops (it can, until its first send fails and it sits retrying)
            assertTrue(p.resyncs() >= 1 && p.resyncs() <= 2, "resyncs " + p.resyncs());
        }
        // wire ids are consecutive, and what arrived rebuilds exactly the engine's cache
        ai.arbor.actors.router.index.RadixIndex router = new ai.arbor.actors.router.index.RadixIndex(4);
        for (int i = 0; i < delivered.size(); i++) {
            assertEquals(i, delivered.get(i).eventId());
            assertEquals(ai.arbor.actors.router.index.ApplyResult.APPLIED, router.apply(1, delivered.get(i)));
        }
        engine.assertSameMatches(direct, router, 1);
        assertTrue(router.blockCount(1) > 0);
    }

    @Test
    void aRequestedResyncResendsTheWholeCache() throws Exception {
        List<BlockEvent> delivered = new CopyOnWriteArrayList<>();
        EngineEvents engine = new EngineEvents(4, 5, 2);
        ai.arbor.actors.router.index.RadixIndex direct = new ai.arbor.actors.router.index.RadixIndex(4);
        try (KvEventPublisher p = new KvEventPublisher("t", 3, 1000, 10, b -> delivered.addAll(b.events()))) {
            for (int i = 0; i < 100; i++) {
                KvEvent e = engine.next();
                direct.apply(3, BlockEvent.fromEngine(e));
                p.onKvEvents(List.of(e));
            }
            assertTrue(p.flush(5000));
            int before = delivered.size();
            p.requestResync();
            assertTrue(p.flush(5000));
            assertEquals(p.cachedBlocks() + 1, delivered.size() - before, "a clear plus one store per cached block");
            assertInstanceOf(BlockEvent.Cleared.class, delivered.get(before));
            // a router that only sees the resync (say it lost everything before) has the same cache
            ai.arbor.actors.router.index.RadixIndex fresh = new ai.arbor.actors.router.index.RadixIndex(4);
            for (BlockEvent e : delivered.subList(before, delivered.size())) fresh.apply(3, e);
            engine.assertSameMatches(direct, fresh, 3);
            assertTrue(fresh.blockCount(3) > 0);
        }
    }

    @Test
    void rejectsBadSizes() {
        assertThrows(IllegalArgumentException.class, () -> new KvEventPublisher("t", 1, 0, 1, b -> {}));
    }
}
