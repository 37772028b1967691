package ai.arbor.gpu.protocol;

/**
 * A snapshot of an engine's counters for load reporting and metrics. Prefix-cache queries and hits count tokens, as
 * vLLM's do.
 */
public record EngineStats(int runningRequests, int waitingRequests, int kvBlocksActive, int kvBlocksTotal,
                          long prefixCacheQueries, long prefixCacheHits, long preemptions, long promptTokens,
                          long generatedTokens, long steps, int lastBatchSize, long lastStepNanos) {
    public double kvCacheUsage() { return kvBlocksTotal == 0 ? 0 : (double) kvBlocksActive / kvBlocksTotal; }
}
