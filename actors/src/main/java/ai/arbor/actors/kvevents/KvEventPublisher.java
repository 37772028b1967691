package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;
import ai.arbor.gpu.protocol.KvEventListener;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A worker's side of the bus. The engine calls {@link #onKvEvents} on its step thread, which turns the event into its
 * wire form ({@link BlockEvent#fromEngine}: hashes, no token ids), records the change in a {@link KvBlockMirror} and
 * queues the event (never waits on I/O); a sender thread batches whatever is queued and
 * hands it to the transport, retrying with back-off while the transport is down.
 *
 * <p>Events leave with the publisher's own consecutive ids (wire ids), not the engine's. When the bounded queue is
 * full, new events are dropped and counted, and the publisher schedules a <em>resync</em>: it discards what is queued
 * and sends, as the next events, an AllBlocksCleared plus a store of every block its mirror says is cached — so the
 * routers end up exactly in step again without anyone replaying the lost events. Routers that notice a gap for other
 * reasons (a trimmed stream) ask for the same through {@link #requestResync()}.
 */
public final class KvEventPublisher implements KvEventListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KvEventPublisher.class);

    /** Sends one batch; throwing means "not delivered, try again". */
    @FunctionalInterface
    public interface Transport {
        void send(KvEventBatch batch) throws Exception;
    }

    private final long workerId;
    private final int maxBatch;
    private final Transport transport;
    private final ArrayBlockingQueue<BlockEvent> queue;
    private final KvBlockMirror mirror = new KvBlockMirror();
    private final Object lock = new Object();
    private long nextWireId;
    private boolean resyncNeeded;
    private final Thread sender;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong resyncs = new AtomicLong();
    private volatile boolean closed;

    public KvEventPublisher(String name, long workerId, int capacity, int maxBatch, Transport transport) {
        if (capacity <= 0 || maxBatch <= 0) {
            throw new IllegalArgumentException("KV event buffer capacity and batch size must be positive, got "
                    + capacity + " and " + maxBatch);
        }
        this.workerId = workerId;
        this.maxBatch = maxBatch;
        this.transport = transport;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.sender = new Thread(this::run, "kv-events-" + name);
        this.sender.setDaemon(true);
        this.sender.start();
    }

    public long workerId() { return workerId; }

    @Override
    public void onKvEvents(List<KvEvent> engineEvents) {
        // hashed before the lock: the step thread pays for it either way, the sender thread should not wait on it
        List<BlockEvent> events = new ArrayList<>(engineEvents.size());
        for (KvEvent e : engineEvents) {
            try {
                events.add(BlockEvent.fromEngine(e));
            } catch (IllegalArgumentException malformed) {
                // an engine bug; routers just miss these blocks (a cost, never a wrong answer)
                dropped.incrementAndGet();
                log.warn("KV event not published: {}", malformed.getMessage());
            }
        }
        synchronized (lock) {
            for (BlockEvent e : events) {
                mirror.apply(e);
                if (closed || resyncNeeded || !queue.offer(e.withId(nextWireId))) {
                    // the mirror has it; the resync will carry its effect
                    dropped.incrementAndGet();
                    resyncNeeded = !closed;
                } else {
                    nextWireId++;
                    accepted.incrementAndGet();
                }
            }
        }
    }

    /** Routers lost track of this worker: re-describe the whole cache as the next events. */
    public void requestResync() {
        synchronized (lock) {
            resyncNeeded = true;
        }
    }

    private void run() {
        List<BlockEvent> batch = new ArrayList<>(maxBatch);
        List<BlockEvent> resync = List.of();
        int resyncPos = 0;
        long backoffMs = 10;
        while (!closed || !queue.isEmpty() || resyncPos < resync.size()) {
            try {
                if (batch.isEmpty()) {
                    if (resyncPos < resync.size()) {
                        int end = Math.min(resync.size(), resyncPos + maxBatch);
                        batch.addAll(resync.subList(resyncPos, end));
                        resyncPos = end;
                    } else {
                        resync = takeResyncIfNeeded();
                        resyncPos = 0;
                        if (!resync.isEmpty()) continue;
                        BlockEvent first = queue.poll(50, TimeUnit.MILLISECONDS);
                        if (first == null) continue;
                        batch.add(first);
                        queue.drainTo(batch, maxBatch - 1);
                    }
                }
                transport.send(new KvEventBatch(workerId, batch));
                published.addAndGet(batch.size());
                batch.clear();
                backoffMs = 10;
            } catch (InterruptedException e) {
                if (closed) break;
            } catch (Exception e) {
                sendFailures.incrementAndGet();
                if (closed) break;
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException ie) {
                    if (closed) break;
                }
                backoffMs = Math.min(1000, backoffMs * 2);
            }
        }
    }

    /**
     * If a resync is due: drops what is queued (its effect is in the mirror) and returns the mirror's dump, numbered
     * from the first dropped id (or the next one), so everything the engine reports from now on follows it.
     */
    private List<BlockEvent> takeResyncIfNeeded() {
        synchronized (lock) {
            if (!resyncNeeded) return List.of();
            resyncNeeded = false;
            BlockEvent head = queue.peek();
            int discarded = queue.size();
            queue.clear();
            // the dump takes over the discarded events' ids, so routers see no gap in this worker's ids
            if (head != null) nextWireId = head.eventId();
            accepted.addAndGet(-discarded);
            List<BlockEvent> dump = mirror.dump(nextWireId);
            nextWireId += dump.size();
            accepted.addAndGet(dump.size());
            resyncs.incrementAndGet();
            return dump;
        }
    }

    /** Events handed to the transport, resync events included. */
    public long published() { return published.get(); }

    /** Engine events not sent one by one: they did not fit the buffer or a resync was pending (a resync carries their effect). */
    public long dropped() { return dropped.get(); }

    /** Failed send attempts (each batch is retried until it goes through). */
    public long sendFailures() { return sendFailures.get(); }

    /** Times the whole cache was re-sent. */
    public long resyncs() { return resyncs.get(); }

    public int queued() { return queue.size(); }

    /** Blocks the worker's engine has cached, as far as its events say. */
    public int cachedBlocks() {
        synchronized (lock) {
            return mirror.size();
        }
    }

    /** Waits up to {@code timeoutMs} until every event accepted so far (and any resync due) has been sent. */
    public boolean flush(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            boolean pending;
            synchronized (lock) {
                pending = resyncNeeded || published.get() < accepted.get();
            }
            if (!pending) return true;
            if (System.nanoTime() - deadline > 0) return false;
            Thread.sleep(2);
        }
    }

    /** Sends what is queued (for up to two seconds) and stops the sender. */
    @Override
    public void close() {
        closed = true;
        try {
            sender.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (sender.isAlive()) sender.interrupt();
    }
}
