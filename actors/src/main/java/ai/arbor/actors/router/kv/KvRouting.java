package ai.arbor.actors.router.kv;

import ai.arbor.actors.kvevents.KvEventBus;
import ai.arbor.config.RouterSettings;
import ai.arbor.actors.router.index.OverlapScores;
import ai.arbor.actors.router.index.TokenBlockHasher;
import ai.arbor.actors.router.snapshot.IndexSnapshot;
import ai.arbor.actors.router.snapshot.IndexSnapshotStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One router replica's KV-aware machinery for one model: the index (restored from the latest snapshot, then fed from
 * the bus right after it), periodic snapshots, load shared with the other replicas, and the cost function. The
 * router's {@code WorkerSelector} for mode {@code kv} reads from here.
 */
public final class KvRouting implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KvRouting.class);

    /**
     * @param snapshotInterval how often to consider a snapshot (zero: never)
     * @param snapshotMinEvents events that must have been applied since the last snapshot to take a new one
     */
    public record Settings(int blockSize, double overlapWeight, double temperature, boolean resetStates,
                           Duration snapshotInterval, long snapshotMinEvents) {
        public static Settings defaults(int blockSize) {
            return new Settings(blockSize, 1.0, 0.0, false, Duration.ofSeconds(30), 10_000);
        }

        /** From {@code arbor.router.*}; the block size is the engines' ({@code arbor.engine.block-size}). */
        public static Settings from(RouterSettings r, int blockSize) {
            return new Settings(blockSize, r.overlapWeight(), r.temperature(), r.resetStates(), r.snapshotInterval(),
                    r.snapshotMinEvents());
        }
    }

    private final String model;
    private final KvEventBus bus;
    private final KvIndexer indexer;
    private final LoadSharing sharing;
    private final KvCostFunction cost;
    private final Optional<IndexSnapshotStore> store;
    private final RoutingStats stats = new RoutingStats();
    private final ScheduledExecutorService timer;
    private long eventsAtLastSnapshot;

    /**
     * How long a released request's blocks still count as pending on its worker: KV events normally arrive within
     * milliseconds of the prefill, long before the request ends; the grace covers one-token requests and slow links.
     */
    static final long PENDING_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private final PendingPrefixes pending = new PendingPrefixes(PENDING_GRACE_NANOS, System::nanoTime);
    /** This replica's requests in flight: the worker and the prompt tokens it had to compute (not cached there). */
    private final java.util.Map<String, InFlight> inFlight = new java.util.HashMap<>();
    private final java.util.Map<Long, Long> uncachedTokensByWorker = new java.util.HashMap<>();

    private record InFlight(long workerId, int uncachedTokens) {}

    private KvRouting(String model, KvEventBus bus, KvIndexer indexer, LoadSharing sharing, KvCostFunction cost,
                      Optional<IndexSnapshotStore> store, Settings settings, long eventsInStoredSnapshot) {
        this.model = model;
        this.bus = bus;
        this.indexer = indexer;
        this.sharing = sharing;
        this.cost = cost;
        this.store = store;
        this.eventsAtLastSnapshot = eventsInStoredSnapshot;
        if (store.isPresent() && !settings.snapshotInterval().isZero()) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "router-snapshot-" + model);
                t.setDaemon(true);
                return t;
            });
            long ms = settings.snapshotInterval().toMillis();
            timer.scheduleWithFixedDelay(() -> snapshotIfDue(settings.snapshotMinEvents()), ms, ms, TimeUnit.MILLISECONDS);
        } else {
            timer = null;
        }
    }

    /**
     * Starts routing state for {@code model}: with {@code resetStates} the stored events and snapshot are purged first;
     * otherwise the latest snapshot (if any) is loaded and the bus replayed from right after it, so the index is warm
     * before the first request arrives.
     */
    public static KvRouting start(String model, KvEventBus bus, Optional<IndexSnapshotStore> store, LoadSharing sharing,
                                  Settings settings) {
        KvCostFunction cost = new KvCostFunction(settings.overlapWeight(), settings.temperature());
        if (settings.resetStates()) {
            bus.purge(model);
            store.ifPresent(s -> s.delete(model));
            log.info("model {}: router state reset (stored KV events and snapshot purged)", model);
        }
        KvIndexer indexer = null;
        if (!settings.resetStates() && store.isPresent()) {
            try {
                Optional<IndexSnapshot> snap = store.get().load(model);
                if (snap.isPresent()) {
                    KvIndexer restored = KvIndexer.fromSnapshot(model, snap.get());
                    if (restored.blockSize() == settings.blockSize()) {
                        indexer = restored;
                        log.info("model {}: router index restored from snapshot at sequence {} ({} nodes)", model,
                                snap.get().sequence(), restored.stats().nodes());
                    } else {
                        log.warn("model {}: ignoring snapshot with block size {} (router uses {})", model,
                                restored.blockSize(), settings.blockSize());
                    }
                }
            } catch (RuntimeException e) {
                log.warn("model {}: cannot load the router snapshot, replaying the stream instead: {}", model, e.getMessage());
            }
        }
        if (indexer == null) indexer = new KvIndexer(model, settings.blockSize());
        // read before consuming: the replay may apply events before the constructor runs, and those are not yet in
        // any stored snapshot
        long eventsInStoredSnapshot = indexer.stats().eventsApplied();
        indexer.consume(bus);
        return new KvRouting(model, bus, indexer, sharing, cost, store, settings, eventsInStoredSnapshot);
    }

    /** Saves a snapshot if enough events were applied since the last one; true if it saved. */
    public synchronized boolean snapshotIfDue(long minEvents) {
        if (store.isEmpty()) return false;
        long applied = indexer.stats().eventsApplied();
        if (applied - eventsAtLastSnapshot < minEvents || applied == eventsAtLastSnapshot) return false;
        try {
            store.get().save(model, indexer.snapshot());
            eventsAtLastSnapshot = applied;
            return true;
        } catch (RuntimeException e) {
            log.warn("model {}: router snapshot not saved: {}", model, e.getMessage());
            return false;
        }
    }

    /**
     * The chosen candidate, what it had cached of the request (from its KV events, or pending there from requests
     * this replica routed), and the request's block sequence hashes (for {@link #routed}).
     */
    public record Decision(int index, long workerId, int overlapBlocks, int cachedTokens, boolean loadOnly,
                           long[] sequenceHashes) {}

    /**
     * Picks one of {@code workerIds} for a prompt: cached overlap from the index and from this replica's requests whose
     * events have not arrived yet (unless KV events are not flowing), load = this replica's in-flight tokens on each
     * worker ({@code localActiveTokens}; see {@link #uncachedTokensInFlight}) plus other replicas'.
     * A {@code pinned} worker among the candidates is taken as is.
     */
    public synchronized Decision select(int[] tokenIds, long[] workerIds, long[] localActiveTokens, Long pinned,
                                        java.util.Random random) {
        if (workerIds.length == 0) throw new IllegalArgumentException("no workers to route to");
        if (workerIds.length != localActiveTokens.length) {
            throw new IllegalArgumentException(workerIds.length + " workers but " + localActiveTokens.length + " loads");
        }
        long t0 = System.nanoTime();
        boolean useKv = bus.healthy();
        long[] local = indexer.localHashes(tokenIds);
        long[] sequence = TokenBlockHasher.sequenceHashes(local);
        OverlapScores scores = useKv ? indexer.findMatches(local) : OverlapScores.NONE;
        java.util.Map<Long, Integer> pendingDepth = useKv ? pending.depths(sequence) : java.util.Map.of();
        int blockSize = indexer.blockSize();
        int chosen = -1;
        if (pinned != null) {
            for (int i = 0; i < workerIds.length; i++) if (workerIds[i] == pinned) chosen = i;
        }
        if (chosen < 0) {
            KvCostFunction.Candidate[] c = new KvCostFunction.Candidate[workerIds.length];
            for (int i = 0; i < workerIds.length; i++) {
                long id = workerIds[i];
                double decode = (localActiveTokens[i] + sharing.remoteTokens(id)) / (double) blockSize;
                int device = overlap(scores, pendingDepth, id);
                int host = Math.max(0, scores.depth(WorkerIds.reachable(id)) - device);
                c[i] = new KvCostFunction.Candidate(id, device, decode, 0, host);
            }
            chosen = cost.choose(tokenIds.length / (double) blockSize, c, random);
        }
        int overlap = overlap(scores, pendingDepth, workerIds[chosen]);
        // blocks in its host tier are cached too: the worker copies them up instead of computing them
        int reachable = Math.max(overlap, scores.depth(WorkerIds.reachable(workerIds[chosen])));
        stats.record(tokenIds.length / blockSize, overlap, System.nanoTime() - t0, !useKv);
        return new Decision(chosen, workerIds[chosen], overlap, reachable * blockSize, !useKv, sequence);
    }

    /**
     * Leading blocks of the prompt each worker holds in any tier (from its events, or pending from this replica's
     * requests): what it would not have to compute, or could hand to a peer.
     */
    public synchronized int[] cachedDepths(int[] tokenIds, long[] workerIds) {
        int[] out = new int[workerIds.length];
        if (!bus.healthy()) return out;
        long[] local = indexer.localHashes(tokenIds);
        OverlapScores scores = indexer.findMatches(local);
        java.util.Map<Long, Integer> pendingDepth = pending.depths(TokenBlockHasher.sequenceHashes(local));
        for (int i = 0; i < workerIds.length; i++) {
            out[i] = Math.max(overlap(scores, pendingDepth, workerIds[i]), scores.depth(WorkerIds.reachable(workerIds[i])));
        }
        return out;
    }

    private static int overlap(OverlapScores indexed, java.util.Map<Long, Integer> pendingDepth, long workerId) {
        return Math.max(indexed.depth(workerId), pendingDepth.getOrDefault(workerId, 0));
    }

    /**
     * The request of {@code decision} went to {@code workerId}: its blocks count as pending there, and its load is the
     * prompt tokens that worker must compute (the rest it has cached), shared with the other replicas. Counting only
     * uncached tokens matters: ten requests sharing a long prefix on one worker cost it one prefix, not ten, and
     * counting the whole prompts would push the next request of that prefix to an idle worker that has to compute it
     * all again.
     */
    public synchronized void routed(String requestId, long workerId, int promptTokens, Decision decision) {
        released(requestId);
        boolean same = decision != null && decision.workerId() == workerId;
        int uncached = Math.max(0, promptTokens - (same ? decision.cachedTokens() : 0));
        if (decision != null) pending.routed(requestId, workerId, decision.sequenceHashes());
        inFlight.put(requestId, new InFlight(workerId, uncached));
        uncachedTokensByWorker.merge(workerId, (long) uncached, Long::sum);
        sharing.routed(requestId, workerId, uncached);
    }

    /** The request finished or was cancelled. */
    public synchronized void released(String requestId) {
        pending.released(requestId);
        InFlight f = inFlight.remove(requestId);
        if (f == null) return;
        uncachedTokensByWorker.computeIfPresent(f.workerId(), (w, t) -> t - f.uncachedTokens() <= 0 ? null : t - f.uncachedTokens());
        sharing.released(requestId);
    }

    /** Prompt tokens this replica's in-flight requests have to compute on the worker: its local load. */
    public synchronized long uncachedTokensInFlight(long workerId) {
        return uncachedTokensByWorker.getOrDefault(workerId, 0L);
    }

    /** A worker left the cluster: its indexed blocks and anything pending on it go. */
    public synchronized void removeWorker(long workerId) {
        indexer.removeWorker(workerId);
        indexer.removeWorker(WorkerIds.reachable(workerId));
        pending.removeWorker(workerId);
    }

    public String model() { return model; }

    public KvIndexer indexer() { return indexer; }

    public LoadSharing sharing() { return sharing; }

    public KvCostFunction cost() { return cost; }

    public RoutingStats stats() { return stats; }

    /** False while KV events cannot flow (NATS down): selection then uses load alone. */
    public boolean eventsHealthy() { return bus.healthy(); }

    @Override
    public void close() {
        if (timer != null) timer.shutdownNow();
        indexer.close();
        sharing.close();
    }
}
