package ai.arbor.gpu.backend;

import java.nio.ByteBuffer;

/**
 * Copies whole blocks of a backend's paged KV cache to and from host memory: what the host KV tier and the block
 * transfers between workers move. A block's bytes are every layer's K then V slots of that block, in the backend's own
 * element type, so a block read from one backend can be written into another of the same model and cache type only.
 * Engine thread only, like the backend: a copy runs between forward passes, never during one.
 */
public interface KvBlockCopier {

    /** Bytes of one block as {@link #read} writes it. */
    long blockBytes();

    /** Copies block {@code blockId} into {@code dst} at its position, advancing the position by {@link #blockBytes}. */
    void read(int blockId, ByteBuffer dst);

    /** Overwrites block {@code blockId} from {@code src} at its position, advancing the position by {@link #blockBytes}. */
    void write(int blockId, ByteBuffer src);
}
