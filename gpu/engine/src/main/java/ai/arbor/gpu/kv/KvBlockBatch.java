package ai.arbor.gpu.kv;

import java.nio.ByteBuffer;

/**
 * Consecutive full blocks of one sequence with their K/V bytes, as they move between workers: {@code hashes} chain
 * from {@code parentHash} (null for a sequence's first block), {@code tokens} holds each block's tokens back to back,
 * and {@code data} (position 0, limit {@code hashes.length * blockBytes}) each block's bytes as the backend's
 * {@link ai.arbor.gpu.backend.KvBlockCopier} reads them.
 */
public record KvBlockBatch(Long parentHash, long[] hashes, int[] tokens, int blockSize, int blockBytes,
                           ByteBuffer data) {
    public KvBlockBatch {
        if (tokens.length != (long) hashes.length * blockSize) {
            throw new IllegalArgumentException(hashes.length + " blocks of " + blockSize + " tokens but "
                    + tokens.length + " token ids");
        }
        if (data.remaining() != (long) hashes.length * blockBytes) {
            throw new IllegalArgumentException(hashes.length + " blocks of " + blockBytes + " bytes but "
                    + data.remaining() + " bytes of data");
        }
    }

    public int size() { return hashes.length; }

    public long dataBytes() { return (long) hashes.length * blockBytes; }

    public static KvBlockBatch empty(int blockSize, int blockBytes) {
        return new KvBlockBatch(null, new long[0], new int[0], blockSize, blockBytes, ByteBuffer.allocate(0));
    }
}
