package ai.arbor.actors.kvevents;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The block hashes routers key their prefix index by (Dynamo's scheme), computed from token ids so that engines may
 * hash however they like. Workers compute the local hashes of the blocks they cache (so no token id goes on the bus);
 * routers compute the same for incoming prompts. Only full blocks are hashed: a partial block is never reused.
 * <ul>
 *   <li>local hash of a block = xxh3_64 of its token ids as u32 little-endian, seed 1337 — the radix tree's edge key;</li>
 *   <li>sequence hash: {@code seq[0] = local[0]}, {@code seq[i] = xxh3_64(seq[i-1] LE || local[i] LE, seed 1337)} —
 *       names a whole prefix, so equal sequence hashes mean equal prefixes.</li>
 * </ul>
 */
public final class RouterBlockHash {
    public static final long SEED = 1337;
    private static final Hasher64 XXH3 = Hashing.xxh3_64(SEED);
    /** Writes an int as 4 little-endian bytes in one store (a byte-by-byte loop costs as much as the hash itself). */
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private RouterBlockHash() {}

    /** Local hashes of the first {@code blocks} full blocks of {@code tokens}. */
    public static long[] localHashes(int[] tokens, int blockSize, int blocks) {
        if (blockSize <= 0) throw new IllegalArgumentException("block size must be positive, got " + blockSize);
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

    /** The sequence hash of a block whose parent prefix has {@code parentSequenceHash}. */
    public static long chain(long parentSequenceHash, long localHash) {
        // hash4j hashes the two longs exactly as their 16 little-endian bytes (checked in TokenBlockHasherTest)
        return XXH3.hashLongLongToLong(parentSequenceHash, localHash);
    }

}
