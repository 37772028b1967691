package ai.arbor.gpu.protocol;

/**
 * A snapshot of an engine's counters for load reporting and metrics. Prefix-cache queries and hits count tokens, as
 * vLLM's do; hits include blocks onboarded from the host tier or a peer.
 *
 * @param hostKvBlocks        blocks held in the host KV tier now (0 without one)
 * @param onboardedHostBlocks blocks copied up from the host tier on a prefix hit, since start
 * @param onboardedPeerBlocks blocks that came from another worker and were then hit, since start
 */
public record EngineStats(int runningRequests, int waitingRequests, int kvBlocksActive, int kvBlocksTotal,
                          long prefixCacheQueries, long prefixCacheHits, long preemptions, long promptTokens,
                          long generatedTokens, long steps, int lastBatchSize, long lastStepNanos,
                          int hostKvBlocks, long onboardedHostBlocks, long onboardedPeerBlocks) {

    /** Stats of an engine without a host tier or peers. */
    public EngineStats(int runningRequests, int waitingRequests, int kvBlocksActive, int kvBlocksTotal,
                       long prefixCacheQueries, long prefixCacheHits, long preemptions, long promptTokens,
                       long generatedTokens, long steps, int lastBatchSize, long lastStepNanos) {
        this(runningRequests, waitingRequests, kvBlocksActive, kvBlocksTotal, prefixCacheQueries, prefixCacheHits,
                preemptions, promptTokens, generatedTokens, steps, lastBatchSize, lastStepNanos, 0, 0, 0);
    }

    public double kvCacheUsage() { return kvBlocksTotal == 0 ? 0 : (double) kvBlocksActive / kvBlocksTotal; }
}
