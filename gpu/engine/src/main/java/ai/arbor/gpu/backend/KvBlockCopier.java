package ai.arbor.gpu.backend;

import java.nio.ByteBuffer;

/**
 * Copies whole blocks of a backend's paged KV cache to and from host memory: what the host KV tier and the block
 * transfers between workers move. A block's bytes are every layer's K then V slots of that block, in the backend's own
 * element type, so a block read from one backend can be written into another of the same model and cache type only.
 * Engine thread only, like the backend: a copy runs between forward passes, never during one.
 *
 * <p>The batched methods move many blocks in one call, in the same per-block format; the defaults loop over the
 * single-block ones. A backend that copies asynchronously (CUDA: {@code CudaKvBlockCopier}) still keeps the contract
 * the caller sees: after {@code read} returns the bytes are in the buffers; after {@code write} returns the source
 * buffers may be reused, and every later forward pass and copy sees the written blocks.
 */
public interface KvBlockCopier {

    /** Bytes of one block as {@link #read} writes it. */
    long blockBytes();

    /** Copies block {@code blockId} into {@code dst} at its position, advancing the position by {@link #blockBytes}. */
    void read(int blockId, ByteBuffer dst);

    /** Overwrites block {@code blockId} from {@code src} at its position, advancing the position by {@link #blockBytes}. */
    void write(int blockId, ByteBuffer src);

    /** Copies block {@code blockIds[i]} into {@code dsts[i]} at its position, advancing each by {@link #blockBytes}. */
    default void read(int[] blockIds, ByteBuffer[] dsts) {
        checkPairs(blockIds, dsts);
        for (int i = 0; i < blockIds.length; i++) read(blockIds[i], dsts[i]);
    }

    /** Overwrites block {@code blockIds[i]} from {@code srcs[i]} at its position, advancing each by {@link #blockBytes}. */
    default void write(int[] blockIds, ByteBuffer[] srcs) {
        checkPairs(blockIds, srcs);
        for (int i = 0; i < blockIds.length; i++) write(blockIds[i], srcs[i]);
    }

    /** Copies the blocks one after another into {@code dst} from its position, advancing it past the last. */
    default void read(int[] blockIds, ByteBuffer dst) {
        read(blockIds, BlockRuns.slices(dst, blockIds.length, blockBytes()));
        dst.position(dst.position() + blockIds.length * (int) blockBytes());
    }

    /** Overwrites the blocks from {@code src}, one after another from its position, advancing it past the last. */
    default void write(int[] blockIds, ByteBuffer src) {
        write(blockIds, BlockRuns.slices(src, blockIds.length, blockBytes()));
        src.position(src.position() + blockIds.length * (int) blockBytes());
    }

    private static void checkPairs(int[] blockIds, ByteBuffer[] buffers) {
        if (blockIds.length != buffers.length) {
            throw new IllegalArgumentException(blockIds.length + " KV blocks but " + buffers.length + " buffers");
        }
    }
}
