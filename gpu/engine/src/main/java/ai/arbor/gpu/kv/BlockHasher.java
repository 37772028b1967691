package ai.arbor.gpu.kv;

import com.dynatrace.hash4j.hashing.HashStream64;
import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;

/**
 * Names full KV blocks for prefix caching: a block's hash covers its parent's hash and its own token ids, so equal
 * hashes mean equal whole prefixes, not just equal blocks. Partial blocks are never hashed, because their contents
 * still change. XXH3-64 is fast enough to hash every prompt on the engine thread.
 */
public final class BlockHasher {
    private static final long SEED = 0x41_72_62_6f_72L; // "Arbor"

    private final Hasher64 xxh3 = Hashing.xxh3_64(SEED);
    private final int blockSize;

    public BlockHasher(int blockSize) {
        if (blockSize <= 0) throw new IllegalArgumentException("blockSize must be positive, got " + blockSize);
        this.blockSize = blockSize;
    }

    public int blockSize() { return blockSize; }

    /**
     * The hash of the block {@code tokens[offset, offset + blockSize)} that follows {@code parentHash} (null for the
     * first block of a sequence).
     */
    public long hashBlock(Long parentHash, int[] tokens, int offset) {
        if (offset < 0 || offset + blockSize > tokens.length) {
            throw new IllegalArgumentException("block at " + offset + " does not fit in " + tokens.length + " tokens");
        }
        HashStream64 s = xxh3.hashStream();
        s.putBoolean(parentHash != null).putLong(parentHash == null ? 0 : parentHash);
        s.putInts(tokens, offset, blockSize);
        return s.getAsLong();
    }

    /** Hashes of every full block among the first {@code numTokens} tokens, chained from the first. */
    public long[] hashFullBlocks(int[] tokens, int numTokens) {
        int n = numTokens / blockSize;
        long[] out = new long[n];
        Long parent = null;
        for (int i = 0; i < n; i++) {
            out[i] = hashBlock(parent, tokens, i * blockSize);
            parent = out[i];
        }
        return out;
    }
}
