package ai.arbor.actors.router.index;

import ai.arbor.actors.kvevents.RouterBlockHash;

/**
 * The router's block hashes of a prompt, for one block size: the same {@link RouterBlockHash} scheme the workers
 * apply to the blocks they cache, so a prompt's hashes meet the index's keys.
 */
public final class TokenBlockHasher {
    public static final long SEED = RouterBlockHash.SEED;

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
        return RouterBlockHash.localHashes(tokens, blockSize, blocks);
    }

    /** The sequence hash of a block whose parent prefix has {@code parentSequenceHash}. */
    public static long chain(long parentSequenceHash, long localHash) {
        return RouterBlockHash.chain(parentSequenceHash, localHash);
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
