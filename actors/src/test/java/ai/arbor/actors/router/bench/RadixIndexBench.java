package ai.arbor.actors.router.bench;

import ai.arbor.actors.kvevents.KvEventBatch;
import ai.arbor.actors.router.index.OverlapScores;
import ai.arbor.actors.router.index.RadixIndex;
import ai.arbor.actors.router.index.TokenBlockHasher;
import ai.arbor.actors.router.kv.KvIndexer;
import ai.arbor.actors.kvevents.BlockEvent;
import ai.arbor.actors.kvevents.RouterBlockHash;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The router index at the scale: {@code workers} workers each holding {@code blocksPerWorker} cached blocks of
 * 16 tokens. Workers cache sequences of 100 blocks drawn from a shared pool whose sequences share 20-block prefixes in
 * 50 groups (a system-prompt-heavy load), so nodes are shared between workers as they would be in a cluster.
 * <ul>
 *   <li>{@code applyEvents}: throughput of single-block events (a store under a cached prefix, then the removal of the
 *       block stored 1024 events earlier by that worker), router-side hashing of the 16 token ids included;</li>
 *   <li>{@code findMatches}: latency for a 100-block request (hashes precomputed);</li>
 *   <li>{@code hashAndFindMatches}: the same with the router hashing the request's 1600 token ids first;</li>
 *   <li>{@code buildEventBatch}: the batches of {@code applyEventBatch} built and none applied: the benchmark's own
 *       share of its time.</li>
 * </ul>
 * Run with tools/bench_router.sh (never part of mvn verify).
 */
@State(Scope.Benchmark)
public class RadixIndexBench {
    static final int BS = 16;
    static final int SEQ_BLOCKS = 100;
    static final int PREFIX_BLOCKS = 20;
    static final int GROUPS = 50;
    static final int CHURN_WINDOW = 1024;

    @Param({"64"})
    public int workers;

    @Param({"100000"})
    public int blocksPerWorker;

    @Param({"8000"})
    public int poolSequences;

    RadixIndex index;
    KvIndexer indexer;
    long busSequence;
    int[][] poolTokens;
    long[][] poolLocalHashes;
    int[] churnTokens;
    long[] anchorEngineHash;
    long[] nextEventId;
    long[][] churnRing;
    int[] churnPos;
    long churnCounter;
    int nextWorker;
    int nextQuery;
    int[][] queries;
    long[][] queryHashes;

    @Setup(Level.Trial)
    public void build() {
        Random rnd = new Random(42);
        int[][] prefixes = new int[GROUPS][PREFIX_BLOCKS * BS];
        for (int[] p : prefixes) for (int i = 0; i < p.length; i++) p[i] = rnd.nextInt(150_000);
        poolTokens = new int[poolSequences][SEQ_BLOCKS * BS];
        for (int s = 0; s < poolSequences; s++) {
            int[] t = poolTokens[s];
            System.arraycopy(prefixes[s % GROUPS], 0, t, 0, PREFIX_BLOCKS * BS);
            for (int i = PREFIX_BLOCKS * BS; i < t.length; i++) t[i] = rnd.nextInt(150_000);
        }
        TokenBlockHasher hasher = new TokenBlockHasher(BS);
        poolLocalHashes = new long[poolSequences][];
        for (int s = 0; s < poolSequences; s++) poolLocalHashes[s] = hasher.localHashes(poolTokens[s]);

        index = new RadixIndex(BS);
        indexer = new KvIndexer("bench", index, 0);
        nextEventId = new long[workers];
        anchorEngineHash = new long[workers];
        for (int w = 0; w < workers; w++) {
            // sequences share prefixes and repeat, so keep adding until the worker holds blocksPerWorker distinct blocks
            for (int k = 0; index.blockCount(w) < blocksPerWorker; k++) {
                int s = rnd.nextInt(poolSequences);
                long[] engine = new long[SEQ_BLOCKS];
                // an engine hash that, like a real engine's, is a function of the prefix (so re-stores coincide)
                long[] seq = TokenBlockHasher.sequenceHashes(poolLocalHashes[s]);
                for (int b = 0; b < SEQ_BLOCKS; b++) engine[b] = seq[b] ^ 0x5DEECE66DL;
                index.apply(w, new BlockEvent.Stored(nextEventId[w]++, null, engine, poolLocalHashes[s], BS));
                if (k == 0) anchorEngineHash[w] = engine[SEQ_BLOCKS - 1];
            }
        }
        churnTokens = new int[(1 << 16) * BS];
        for (int i = 0; i < churnTokens.length; i++) churnTokens[i] = rnd.nextInt(150_000);
        // workers send each block's local hash (they hash, the router does not): computed once, outside the timing
        churnLocalHashes = RouterBlockHash.localHashes(churnTokens, BS, churnTokens.length / BS);
        churnRing = new long[workers][CHURN_WINDOW];
        churnPos = new int[workers];
        queries = new int[1024][];
        queryHashes = new long[1024][];
        for (int q = 0; q < queries.length; q++) {
            queries[q] = poolTokens[rnd.nextInt(poolSequences)];
            queryHashes[q] = hasher.localHashes(queries[q]);
        }
        System.out.printf("%nindex: %d workers, %d nodes, %d blocks on worker 0%n", index.workerCount(), index.nodeCount(), index.blockCount(0));
        // what a query finds, so the latency below is for realistic matches (deep, several workers), not early exits
        long depthSum = 0, someSum = 0, fullSum = 0;
        for (long[] q : queryHashes) {
            OverlapScores m = index.findMatches(q);
            depthSum += m.maxDepth();
            someSum += m.size();
            for (int d : m.depths()) if (d == SEQ_BLOCKS) fullSum++;
        }
        System.out.printf("queries of %d blocks: deepest match %.1f blocks; %.1f workers match a prefix, %.1f all of it%n",
                SEQ_BLOCKS, (double) depthSum / queryHashes.length, (double) someSum / queryHashes.length,
                (double) fullSum / queryHashes.length);
    }

    /** One event: alternately a worker stores a new block, or removes the block it stored a window ago. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Object applyEvents() {
        int w = nextWorker;
        if ((churnCounter++ & 1) == 0) {
            BlockEvent.Removed r = nextRemoval(w);
            if (r != null) return index.apply(w, r);
            churnCounter++;
        }
        nextWorker = (w + 1) % workers;
        return index.apply(w, nextStore(w));
    }

    /**
     * A batch of {@code BATCH} events of one worker as the router receives them (one NATS message; the publisher sends
     * each worker's events in order, up to 512 per message), through the production path {@link KvIndexer#accept}:
     * lock, cache prefetch, apply, one metrics update. Half are removals of blocks stored a window ago, half new
     * blocks. Score is per event.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public long applyEventBatch() {
        int w = nextBatchWorker();
        indexer.accept(++busSequence, new KvEventBatch(w, nextBatch(w)));
        return busSequence;
    }

    private int nextBatchWorker() {
        int w = nextWorker;
        nextWorker = (w + 1) % workers;
        return w;
    }

    /** {@code BATCH} events of worker {@code w}: half removals of blocks stored a window ago, half new blocks. */
    private List<BlockEvent> nextBatch(int w) {
        List<BlockEvent> batch = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH / 2; i++) {
            BlockEvent.Removed r = nextRemoval(w);
            batch.add(r != null ? r : nextStore(w));
            batch.add(nextStore(w));
        }
        return batch;
    }

    /** {@link #applyEventBatch}'s events applied one by one with no prefetch, lock or metrics: what the prefetch buys. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public long applyEventBatchNoPrefetch() {
        int w = nextBatchWorker();
        long applied = 0;
        for (BlockEvent e : nextBatch(w)) if (index.apply(w, e) != null) applied++;
        return applied;
    }

    /**
     * Only builds {@link #applyEventBatch}'s events (records and the list) and applies none: the share of
     * that benchmark's time that is the benchmark's own.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    public List<BlockEvent> buildEventBatch() {
        return nextBatch(nextBatchWorker());
    }

    static final int BATCH = 32;

    /** The removal of the block worker {@code w} stored {@code CHURN_WINDOW} stores ago, or null while its ring fills. */
    private BlockEvent.Removed nextRemoval(int w) {
        int pos = churnPos[w];
        long old = churnRing[w][pos];
        if (old == 0) return null;
        churnRing[w][pos] = 0;
        return new BlockEvent.Removed(nextEventId[w]++, new long[]{old});
    }

    /** A new block stored by worker {@code w} under its anchor block (engine hashes never repeat). */
    private BlockEvent.Stored nextStore(int w) {
        long c = ++storeCounter;
        int pos = churnPos[w];
        long engineHash = (c << 8) | 1;
        long local = churnLocalHashes[(int) (c & 0xFFFF)];
        churnRing[w][pos] = engineHash;
        churnPos[w] = (pos + 1) % CHURN_WINDOW;
        return new BlockEvent.Stored(nextEventId[w]++, anchorEngineHash[w], new long[]{engineHash}, new long[]{local}, BS);
    }

    long storeCounter;
    private long[] churnLocalHashes;

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();
    private long iterationCpuNanos;
    private long iterationEvents;

    @Setup(Level.Iteration)
    public void startIteration() {
        iterationCpuNanos = THREADS.getCurrentThreadCpuTime();
        iterationEvents = index.eventsApplied();
    }

    /**
     * Events applied per second of the benchmark thread's own CPU time (GC threads excluded): on a machine shared with
     * other work the wall-clock score says how much CPU this thread got as much as how fast the index is.
     */
    @TearDown(Level.Iteration)
    public void endIteration() {
        long events = index.eventsApplied() - iterationEvents;
        if (events == 0) return;
        double cpuSeconds = (THREADS.getCurrentThreadCpuTime() - iterationCpuNanos) / 1e9;
        System.out.printf(" [%.0f events per CPU-second of the applying thread]", events / cpuSeconds);
    }

    /** The events must have been applied as real changes, not skipped as repeats, gaps or orphans. */
    @TearDown(Level.Trial)
    public void check() {
        System.out.printf("%nindex after the run: %d events applied, %d repeats, %d gaps, %d orphan stores, %d nodes%n",
                index.eventsApplied(), index.duplicateEvents(), index.gaps(), index.orphanStores(), index.nodeCount());
        if (index.duplicateEvents() + index.gaps() + index.orphanStores() > 0) {
            throw new IllegalStateException("the benchmark's events were not all applied as changes");
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public OverlapScores findMatches() {
        int q = nextQuery = (nextQuery + 1) & 1023;
        return index.findMatches(queryHashes[q]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public OverlapScores hashAndFindMatches() {
        int q = nextQuery = (nextQuery + 1) & 1023;
        return index.findMatchesForTokens(queries[q]);
    }
}
