package ai.arbor.actors.kvevents;

import ai.arbor.gpu.kv.KvEvent;
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
            for (KvEvent e : b.events()) assertEquals(expected++, e.eventId());
        }
        assertEquals(1000, expected);
        assertFalse(threads.contains(Thread.currentThread().getName()));
    }

    @Test
    void aDownTransportNeverBlocksTheEngineAndDropsAreCounted() throws Exception {
        AtomicBoolean up = new AtomicBoolean(false);
        List<KvEvent> delivered = new CopyOnWriteArrayList<>();
        try (KvEventPublisher p = new KvEventPublisher("t", 1, 100, 10, b -> {
            if (!up.get()) throw new java.io.IOException("nats down");
            delivered.addAll(b.events());
        })) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 50; i++) p.onKvEvents(removals(i * 10L, 10));
            long micros = (System.nanoTime() - t0) / 1000;
            assertTrue(micros < 200_000, "500 events queued in " + micros + " µs");
            // the sender holds one batch of 10 for retry, the queue 100 more: the rest is dropped and counted
            assertTrue(p.dropped() >= 390 && p.dropped() <= 400, "dropped " + p.dropped());
            for (int i = 0; i < 200 && p.sendFailures() == 0; i++) Thread.sleep(10);
            assertTrue(p.sendFailures() > 0, "the sender keeps retrying");
            up.set(true);
            assertTrue(p.flush(5000));
            assertEquals(500 - p.dropped(), delivered.size());
            for (int i = 1; i < delivered.size(); i++) assertTrue(delivered.get(i).eventId() > delivered.get(i - 1).eventId());
        }
    }

    @Test
    void rejectsBadSizes() {
        assertThrows(IllegalArgumentException.class, () -> new KvEventPublisher("t", 1, 0, 1, b -> {}));
    }
}
