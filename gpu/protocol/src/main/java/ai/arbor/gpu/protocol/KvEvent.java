package ai.arbor.gpu.protocol;

/**
 * A change of the set of full blocks an engine holds in its prefix cache, as Dynamo and vLLM report it. Event ids are
 * monotonic per engine, starting at 0, so a consumer notices a gap.
 */
public sealed interface KvEvent {
    long eventId();

    /**
     * Blocks that became reusable. {@code blockHashes} chain from {@code parentBlockHash} (null for the first block of
     * a sequence); {@code tokenIds} holds every block's tokens back to back, {@code blockSize} each.
     */
    record BlockStored(long eventId, Long parentBlockHash, long[] blockHashes, int[] tokenIds, int blockSize)
            implements KvEvent {}

    /** Blocks that were evicted and can no longer be reused. */
    record BlockRemoved(long eventId, long[] blockHashes) implements KvEvent {}

    /** The whole prefix cache was dropped (reset or restart). */
    record AllBlocksCleared(long eventId) implements KvEvent {}
}
