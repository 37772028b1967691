package ai.arbor.gpu.kv;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

/**
 * An engine's side of block transfers between workers: blocks leave and arrive between steps, on the engine thread
 * (the only one that may touch the cache), and the callers on transfer threads wait on the futures.
 */
public interface KvBlockExchange {

    /** The engine's hashes of the full blocks of {@code tokens} that a prefix hit may cover (never the last token). */
    long[] prefixHashes(int[] tokens);

    /** How many leading blocks of this chain the engine holds now, in either tier. */
    CompletableFuture<Integer> heldPrefix(long[] hashes);

    /**
     * Copies out the leading run of the chain {@code hashes} that the engine holds in either tier (maybe none), into a
     * buffer that {@code buffers} gives for the run's byte count (position 0, limit that count); on the engine thread,
     * so {@code buffers} must be safe to call from there. A transfer passes its pool, so no buffer is allocated per
     * transfer.
     */
    CompletableFuture<KvBlockBatch> exportBlocks(long[] hashes, IntFunction<ByteBuffer> buffers);

    /** {@link #exportBlocks(long[], IntFunction)} into a new direct buffer. */
    default CompletableFuture<KvBlockBatch> exportBlocks(long[] hashes) {
        return exportBlocks(hashes, ByteBuffer::allocateDirect);
    }

    /**
     * Writes blocks from a peer into free blocks of the primary pool, where they are cached like computed ones (and
     * announced as stored); blocks already held are skipped. Completes with the number of blocks taken in.
     */
    CompletableFuture<Integer> importBlocks(KvBlockBatch blocks);
}
