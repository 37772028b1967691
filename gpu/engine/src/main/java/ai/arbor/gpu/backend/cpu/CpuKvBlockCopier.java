package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.backend.KvBlockCopier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Block copies for the CPU backend's fp32 cache: a block is one contiguous run of {@code blockSize * kvDim} floats in
 * each layer's K and V array, so a copy is {@code 2 * layers} bulk puts, little-endian on the wire.
 */
final class CpuKvBlockCopier implements KvBlockCopier {
    private final KvCache cache;
    private final int floatsPerRun;

    CpuKvBlockCopier(KvCache cache) {
        this.cache = cache;
        this.floatsPerRun = cache.blockSize * cache.numKvHeads * cache.headDim;
    }

    @Override
    public long blockBytes() { return (long) cache.keys.length * 2 * floatsPerRun * KvCache.BYTES_PER_VALUE; }

    @Override
    public void read(int blockId, ByteBuffer dst) {
        checkRoom(blockId, dst);
        FloatBuffer out = floats(dst);
        int from = blockId * floatsPerRun;
        for (int l = 0; l < cache.keys.length; l++) {
            out.put(cache.keys[l], from, floatsPerRun);
            out.put(cache.values[l], from, floatsPerRun);
        }
        dst.position(dst.position() + (int) blockBytes());
    }

    @Override
    public void write(int blockId, ByteBuffer src) {
        checkRoom(blockId, src);
        FloatBuffer in = floats(src);
        int to = blockId * floatsPerRun;
        for (int l = 0; l < cache.keys.length; l++) {
            in.get(cache.keys[l], to, floatsPerRun);
            in.get(cache.values[l], to, floatsPerRun);
        }
        src.position(src.position() + (int) blockBytes());
    }

    private void checkRoom(int blockId, ByteBuffer buf) {
        if (blockId < 0 || blockId >= cache.numBlocks) {
            throw new IllegalArgumentException("KV block " + blockId + " is outside the cache's " + cache.numBlocks);
        }
        if (buf.remaining() < blockBytes()) {
            throw new IllegalArgumentException("a KV block takes " + blockBytes() + " bytes, the buffer has "
                    + buf.remaining() + " left");
        }
    }

    private static FloatBuffer floats(ByteBuffer buf) {
        return buf.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }
}
