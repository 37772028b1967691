package ai.arbor.gpu.engine;

/**
 * Engine limits, with vLLM's names and meanings.
 *
 * @param numKvBlocks         0 = as many as the backend has room for
 * @param maxModelLen         0 = the model's max_position_embeddings
 * @param kvCacheMemoryBytes  memory the CPU backend may give the KV cache (GPU backends use a utilization fraction)
 * @param hostKvMemoryBytes   host memory for the second KV tier (evicted blocks, LRU); 0 = no host tier
 */
public record EngineConfig(int blockSize, int numKvBlocks, int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen,
                           boolean enablePrefixCaching, long kvCacheMemoryBytes, long hostKvMemoryBytes) {

    /** Without a host KV tier. */
    public EngineConfig(int blockSize, int numKvBlocks, int maxNumSeqs, int maxNumBatchedTokens, int maxModelLen,
                        boolean enablePrefixCaching, long kvCacheMemoryBytes) {
        this(blockSize, numKvBlocks, maxNumSeqs, maxNumBatchedTokens, maxModelLen, enablePrefixCaching,
                kvCacheMemoryBytes, 0);
    }

    public static EngineConfig defaults() {
        return new EngineConfig(16, 0, 256, 2048, 0, true, 1L << 30, 0);
    }

    public EngineConfig withHostKvMemory(long bytes) {
        return new EngineConfig(blockSize, numKvBlocks, maxNumSeqs, maxNumBatchedTokens, maxModelLen,
                enablePrefixCaching, kvCacheMemoryBytes, bytes);
    }
}
