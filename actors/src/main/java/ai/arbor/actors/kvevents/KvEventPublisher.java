package ai.arbor.actors.kvevents;

import ai.arbor.gpu.kv.KvEvent;
import ai.arbor.gpu.kv.KvEventListener;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A worker's side of the bus: the engine calls {@link #onKvEvents} on its step thread, which only queues (never
 * blocks); a sender thread batches whatever is queued and hands it to the transport. If the transport is down the
 * batch is retried with back-off while new events wait in a bounded queue; when that is full new events are dropped and
 * counted — the routers then see a gap in this worker's event ids and drop its stale blocks.
 */
public final class KvEventPublisher implements KvEventListener, AutoCloseable {
    /** Sends one batch; throwing means "not delivered, try again". */
    @FunctionalInterface
    public interface Transport {
        void send(KvEventBatch batch) throws Exception;
    }

    private final long workerId;
    private final int maxBatch;
    private final Transport transport;
    private final ArrayBlockingQueue<KvEvent> queue;
    private final Thread sender;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
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
    public void onKvEvents(List<KvEvent> events) {
        for (KvEvent e : events) {
            if (!closed && queue.offer(e)) accepted.incrementAndGet();
            else dropped.incrementAndGet();
        }
    }

    private void run() {
        List<KvEvent> batch = new ArrayList<>(maxBatch);
        long backoffMs = 10;
        while (!closed || !queue.isEmpty()) {
            try {
                if (batch.isEmpty()) {
                    KvEvent first = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    batch.add(first);
                    queue.drainTo(batch, maxBatch - 1);
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

    /** Events handed to the transport. */
    public long published() { return published.get(); }

    /** Events lost because the buffer was full (or the publisher closed). */
    public long dropped() { return dropped.get(); }

    /** Failed send attempts (each batch is retried until it goes through). */
    public long sendFailures() { return sendFailures.get(); }

    public int queued() { return queue.size(); }

    /** Waits up to {@code timeoutMs} until every event accepted so far has been sent; true if it has. */
    public boolean flush(long timeoutMs) throws InterruptedException {
        long target = accepted.get();
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (published.get() < target) {
            if (System.nanoTime() - deadline > 0) return false;
            Thread.sleep(2);
        }
        return true;
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
