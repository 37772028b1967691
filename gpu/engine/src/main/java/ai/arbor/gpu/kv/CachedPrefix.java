package ai.arbor.gpu.kv;

import java.util.List;

/**
 * The leading full blocks of a sequence that are already in the prefix cache.
 *
 * @param numTokens tokens those blocks hold ({@code blocks.size() * blockSize})
 */
public record CachedPrefix(List<KvBlock> blocks, long[] hashes, int numTokens) {
    public static final CachedPrefix NONE = new CachedPrefix(List.of(), new long[0], 0);
}
