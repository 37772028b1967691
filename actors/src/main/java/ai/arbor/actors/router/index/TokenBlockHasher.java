package ai.arbor.actors.router.index;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;

/**
 * The router's own block hashes, computed from token ids so that engines are free to hash however they like (Dynamo's
 * scheme). Only full blocks are hashed: a partial last block can never be reused by an engine.
 * <ul>
 *   <li>local hash of a block = xxh3_64 of its token ids as u32 little-endian, seed 1337 — the radix tree's edge key;</li>
 *   <li>sequence hash: {@code seq[0] = local[0]}, {@code seq[i] = xxh3_64(seq[i-1] LE || local[i] LE, seed 1337)} —
 *       names a whole prefix, so equal sequence hashes mean equal prefixes.</li>
 * </ul>
 */
public final class TokenBlockHasher {
    public static final long SEED = 1337;
    private static final Hasher64 XXH3 = Hashing.xxh3_64(SEED);

    private final int blockSize;

    public TokenBlockHasher(int blockSize) {
        if (blockSize <= 0) throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        this.blockSize = blockSize;
    }

    public int blockSize() { return blockSize; }

    /** Local hashes of the full blocks of {@code tokens} (a trailing partial block is ignored). */
    public long[] localHashes(int[] tokens) {
        return localHashes(tokens, tokens.length / blockSize);
    }

    /** Local hashes of the first {@code blocks} full blocks of {@code tokens}. */
    public long[] localHashes(int[] tokens, int blocks) {
        if ((long) blocks * blockSize > tokens.length) {
            throw new IllegalArgumentException(blocks + " blocks of " + blockSize + " tokens need "
                    + (long) blocks * blockSize + " token ids, got " + tokens.length);
        }
        long[] out = new long[blocks];
        int n = blocks * blockSize;
        // the whole prompt as little-endian bytes in one pass, then one hash per block-sized slice
        byte[] bytes = new byte[n << 2];
        for (int i = 0; i < n; i++) INT_LE.set(bytes, i << 2, tokens[i]);
        int blockBytes = blockSize << 2;
        for (int b = 0; b < blocks; b++) out[b] = XXH3.hashBytesToLong(bytes, b * blockBytes, blockBytes);
        return out;
    }

    /** Writes an int as 4 little-endian bytes in one store (a byte-by-byte loop costs as much as the hash itself). */
    private static final java.lang.invoke.VarHandle INT_LE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /** One block's local hash; {@code buf} must hold {@code 4 * blockSize} bytes and is overwritten. */
    static long localHash(int[] tokens, int offset, int blockSize, byte[] buf) {
        for (int i = 0; i < blockSize; i++) INT_LE.set(buf, i << 2, tokens[offset + i]);
        return XXH3.hashBytesToLong(buf, 0, blockSize << 2);
    }

    /** The sequence hash of a block whose parent prefix has {@code parentSequenceHash}. */
    public static long chain(long parentSequenceHash, long localHash) {
        // hash4j hashes the two longs exactly as their 16 little-endian bytes (checked in TokenBlockHasherTest)
        return XXH3.hashLongLongToLong(parentSequenceHash, localHash);
    }

    /** Sequence hashes for a whole prefix of local hashes, starting at the root. */
    public static long[] sequenceHashes(long[] localHashes) {
        long[] seq = new long[localHashes.length];
        for (int i = 0; i < localHashes.length; i++) {
            seq[i] = i == 0 ? localHashes[0] : chain(seq[i - 1], localHashes[i]);
        }
        return seq;
    }
}
