package ai.arbor.actors.router.kv;

import ai.arbor.actors.kvevents.BlockEvent;
import ai.arbor.actors.kvevents.KvEventBatch;
import ai.arbor.actors.kvevents.KvEventBus;
import ai.arbor.actors.kvevents.KvEventSink;
import ai.arbor.actors.metrics.RouterMetrics;
import ai.arbor.actors.router.index.ApplyResult;
import ai.arbor.actors.router.index.OverlapScores;
import ai.arbor.actors.router.index.RadixIndex;
import ai.arbor.actors.router.index.TokenBlockHasher;
import ai.arbor.actors.router.snapshot.IndexSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One router replica's view of the model's KV caches: a {@link RadixIndex} fed from the event bus, safe to query from
 * the router while the bus thread applies events (one lock; both sides hold it for microseconds). It remembers the bus
 * position of the last batch applied, so a snapshot says where replay must resume, and it counts what the metrics
 * issue exposes: events applied, gaps, rejected events, and find-matches time.
 */
public final class KvIndexer implements KvEventSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KvIndexer.class);

    private final String model;
    private final RadixIndex index;
    private final TokenBlockHasher hasher;
    private long lastSequence;
    private AutoCloseable subscription;
    private volatile KvEventBus bus;
    private final java.util.Map<Long, Long> lastResyncAsk = new java.util.HashMap<>();
    private final AtomicLong resyncRequests = new AtomicLong();

    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong findMatchesCalls = new AtomicLong();
    private final AtomicLong findMatchesNanos = new AtomicLong();
    private final AtomicLong hashingNanos = new AtomicLong();
    private volatile long lastBatchNanos = System.nanoTime();
    private final kamon.metric.Counter eventsAppliedMetric;

    public KvIndexer(String model, int blockSize) {
        this(model, new RadixIndex(blockSize), 0);
    }

    /** Starts from a restored index whose last event came at bus position {@code sequence}. */
    public KvIndexer(String model, RadixIndex index, long sequence) {
        this.model = model;
        this.index = index;
        this.hasher = index.hasher();
        this.lastSequence = sequence;
        this.eventsAppliedMetric = RouterMetrics.kvEventsAppliedCounter(model);
    }

    public static KvIndexer fromSnapshot(String model, IndexSnapshot snapshot) {
        return new KvIndexer(model, RadixIndex.restore(snapshot.index()), snapshot.sequence());
    }

    public String model() { return model; }

    public int blockSize() { return index.blockSize(); }

    /** Subscribes to the bus right after the last position this indexer has applied. */
    public synchronized KvIndexer consume(KvEventBus bus) {
        if (subscription != null) throw new IllegalStateException("indexer for " + model + " is already consuming");
        this.bus = bus;
        subscription = bus.subscribe(model, lastSequence, this);
        return this;
    }

    @Override
    public void accept(long sequence, KvEventBatch batch) {
        synchronized (this) {
            if (sequence <= lastSequence) return; // redelivered after a consumer restart
            index.prefetch(batch.workerId(), batch.events());
            long applied = 0;
            for (BlockEvent e : batch.events()) {
                try {
                    ApplyResult r = index.apply(batch.workerId(), e);
                    if (r != ApplyResult.DUPLICATE) applied++;
                    if (r == ApplyResult.GAP && !(e instanceof BlockEvent.Cleared)) {
                        // a gap that ends in a clear is the worker's own resync; any other needs one
                        log.warn("model {}: worker {} skipped to event {}; dropped its blocks and asked it to resync",
                                model, Long.toHexString(batch.workerId()), e.eventId());
                        askResync(batch.workerId());
                    }
                } catch (IllegalArgumentException bad) {
                    rejected.incrementAndGet();
                    log.warn("model {}: rejected KV event: {}", model, bad.getMessage());
                }
            }
            lastSequence = sequence;
            // one metric update per batch, on a counter looked up once: a Kamon lookup costs more than applying events
            if (applied > 0) eventsAppliedMetric.increment(applied);
        }
        lastBatchNanos = System.nanoTime();
    }

    private void askResync(long workerId) {
        KvEventBus b = bus;
        long now = System.nanoTime();
        Long last = lastResyncAsk.get(workerId);
        if (b == null || (last != null && now - last < 1_000_000_000L)) return;
        lastResyncAsk.put(workerId, now);
        resyncRequests.incrementAndGet();
        b.requestResync(model, workerId);
    }

    /** Cached leading blocks per worker for a prompt (hashing is done outside the lock). */
    public OverlapScores findMatches(int[] tokenIds) {
        return findMatches(localHashes(tokenIds));
    }

    /** The router's local hashes of a prompt's full blocks (timed for the hashing-overhead figure). */
    public long[] localHashes(int[] tokenIds) {
        long t0 = System.nanoTime();
        long[] local = hasher.localHashes(tokenIds);
        hashingNanos.addAndGet(System.nanoTime() - t0);
        return local;
    }

    /** Cached leading blocks per worker for a prompt whose full blocks have these local hashes. */
    public OverlapScores findMatches(long[] local) {
        long t1 = System.nanoTime();
        OverlapScores s;
        synchronized (this) {
            s = index.findMatches(local);
        }
        long t2 = System.nanoTime();
        findMatchesNanos.addAndGet(t2 - t1);
        findMatchesCalls.incrementAndGet();
        return s;
    }

    /** A worker left the cluster: its blocks can no longer be hit. */
    public synchronized boolean removeWorker(long workerId) {
        return index.removeWorker(workerId);
    }

    public synchronized IndexSnapshot snapshot() {
        return new IndexSnapshot(lastSequence, index.snapshot());
    }

    public synchronized long lastSequence() { return lastSequence; }

    public synchronized RadixIndex.WorkerContent content(long workerId) {
        return index.content().get(workerId);
    }

    public synchronized java.util.Map<Long, RadixIndex.WorkerContent> content() {
        return index.content();
    }

    public synchronized Stats stats() {
        return new Stats(index.eventsApplied(), index.duplicateEvents(), index.gaps(), index.orphanStores(), rejected.get(),
                index.workerCount(), index.nodeCount(), lastSequence, findMatchesCalls.get(), findMatchesNanos.get(),
                hashingNanos.get(), resyncRequests.get());
    }

    /** Counters for the metrics issue; times are totals in nanoseconds. */
    public record Stats(long eventsApplied, long duplicateEvents, long gaps, long orphanStores, long rejectedEvents,
                        int workers, long nodes, long lastSequence, long findMatchesCalls, long findMatchesNanos,
                        long hashingNanos, long resyncRequests) {}

    @Override
    public synchronized void close() {
        if (subscription != null) {
            try {
                subscription.close();
            } catch (Exception e) {
                log.debug("closing KV event subscription", e);
            }
            subscription = null;
        }
    }
}
