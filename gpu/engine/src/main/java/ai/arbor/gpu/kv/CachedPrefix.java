package ai.arbor.gpu.kv;

import java.util.List;

/**
 * The leading full blocks of a sequence that are already cached: first {@code blocks} in the primary pool, then
 * {@code hostHashes} in the host tier (copied up when the request is admitted).
 *
 * @param numTokens tokens those blocks hold, both tiers together
 */
public record CachedPrefix(List<KvBlock> blocks, long[] hashes, long[] hostHashes, int numTokens) {
    public static final CachedPrefix NONE = new CachedPrefix(List.of(), new long[0], new long[0], 0);

    /** A prefix held in the primary pool only. */
    public CachedPrefix(List<KvBlock> blocks, long[] hashes, int numTokens) {
        this(blocks, hashes, new long[0], numTokens);
    }

    /** Tokens of the prefix that come from the host tier. */
    public int numHostTokens(int blockSize) { return hostHashes.length * blockSize; }
}
