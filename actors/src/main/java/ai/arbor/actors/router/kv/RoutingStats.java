package ai.arbor.actors.router.kv;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the KV router reports for metrics: decisions made, the cached overlap they found (hit rate = overlap blocks /
 * request blocks), how many fell back to load only, and the router's own overhead (hashing + find_matches +
 * scheduling). Thread-safe counters; {@link #snapshot()} reads them together.
 */
public final class RoutingStats {
    private final LongAdder decisions = new LongAdder();
    private final LongAdder loadOnlyDecisions = new LongAdder();
    private final LongAdder requestBlocks = new LongAdder();
    private final LongAdder overlapBlocks = new LongAdder();
    private final LongAdder overheadNanos = new LongAdder();
    private final AtomicLong maxOverheadNanos = new AtomicLong();

    void record(int requestBlocks, int overlapBlocks, long overheadNanos, boolean loadOnly) {
        decisions.increment();
        if (loadOnly) loadOnlyDecisions.increment();
        this.requestBlocks.add(requestBlocks);
        this.overlapBlocks.add(overlapBlocks);
        this.overheadNanos.add(overheadNanos);
        maxOverheadNanos.accumulateAndGet(overheadNanos, Math::max);
    }

    public Snapshot snapshot() {
        return new Snapshot(decisions.sum(), loadOnlyDecisions.sum(), requestBlocks.sum(), overlapBlocks.sum(),
                overheadNanos.sum(), maxOverheadNanos.get());
    }

    public record Snapshot(long decisions, long loadOnlyDecisions, long requestBlocks, long overlapBlocks,
                           long overheadNanos, long maxOverheadNanos) {
        /** Fraction of requested full blocks that the chosen workers had cached. */
        public double hitRate() { return requestBlocks == 0 ? 0 : (double) overlapBlocks / requestBlocks; }

        public double meanOverheadMicros() { return decisions == 0 ? 0 : overheadNanos / 1e3 / decisions; }
    }
}
