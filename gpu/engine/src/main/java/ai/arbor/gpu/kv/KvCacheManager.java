package ai.arbor.gpu.kv;

import ai.arbor.gpu.protocol.KvEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which blocks each request holds: finds cached prefixes, grows a request's block table as it computes tokens,
 * publishes its full blocks to the prefix cache once computed, and gives its blocks back when it ends or is preempted.
 * Engine thread only.
 */
public final class KvCacheManager {
    private final BlockPool pool;
    private final BlockHasher hasher;
    private final int blockSize;
    private final boolean prefixCaching;
    private final Map<String, RequestBlocks> byRequest = new HashMap<>();

    /** One request's blocks, logical order, and the hashes of its leading blocks already published. */
    private static final class RequestBlocks {
        final List<KvBlock> blocks = new ArrayList<>();
        long[] hashes = new long[4];
        int numHashed;

        void addHash(long h) {
            if (numHashed == hashes.length) hashes = Arrays.copyOf(hashes, numHashed * 2);
            hashes[numHashed++] = h;
        }
    }

    public KvCacheManager(int numBlocks, int blockSize, boolean enablePrefixCaching) {
        this.pool = new BlockPool(numBlocks, blockSize);
        this.hasher = new BlockHasher(blockSize);
        this.blockSize = blockSize;
        this.prefixCaching = enablePrefixCaching;
    }

    public int blockSize() { return blockSize; }

    public int numBlocks() { return pool.numBlocks(); }

    public int numFreeBlocks() { return pool.numFreeBlocks(); }

    public int numActiveBlocks() { return pool.numActiveBlocks(); }

    public double usage() { return (double) pool.numActiveBlocks() / pool.numBlocks(); }

    public boolean prefixCachingEnabled() { return prefixCaching; }

    public BlockPool pool() { return pool; }

    /**
     * The longest run of leading full blocks of {@code tokens[0, numTokens)} that is cached. It never covers the last
     * token: the model has to compute at least that one to produce the next token's logits.
     */
    public CachedPrefix findCachedPrefix(int[] tokens, int numTokens) {
        if (!prefixCaching) return CachedPrefix.NONE;
        int maxBlocks = (numTokens - 1) / blockSize;
        List<KvBlock> hit = new ArrayList<>();
        long[] hashes = new long[maxBlocks];
        Long parent = null;
        for (int i = 0; i < maxBlocks; i++) {
            long h = hasher.hashBlock(parent, tokens, i * blockSize);
            KvBlock b = pool.cachedBlock(h);
            if (b == null) break;
            hit.add(b);
            hashes[i] = h;
            parent = h;
        }
        if (hit.isEmpty()) return CachedPrefix.NONE;
        return new CachedPrefix(List.copyOf(hit), Arrays.copyOf(hashes, hit.size()), hit.size() * blockSize);
    }

    /**
     * Makes room for a request to hold {@code numComputedTokens + numNewTokens} tokens; on the request's first
     * allocation, {@code prefix} (from {@link #findCachedPrefix}) becomes the start of its block table and counts in
     * {@code numComputedTokens}.
     *
     * @return false, changing nothing, when there are not enough free blocks
     */
    public boolean allocateSlots(String requestId, int numComputedTokens, int numNewTokens, CachedPrefix prefix) {
        RequestBlocks rb = byRequest.get(requestId);
        int held = rb == null ? 0 : rb.blocks.size();
        int hit = prefix == null ? 0 : prefix.blocks().size();
        if (hit > 0 && held > 0) throw new IllegalStateException(requestId + " already holds blocks");
        int required = ceilDiv(numComputedTokens + numNewTokens, blockSize);
        int toAllocate = Math.max(0, required - held - hit);
        int hitOnFreeQueue = 0;
        for (int i = 0; i < hit; i++) if (prefix.blocks().get(i).refCount() == 0) hitOnFreeQueue++;
        if (toAllocate + hitOnFreeQueue > pool.numFreeBlocks()) return false;
        if (rb == null) {
            rb = new RequestBlocks();
            byRequest.put(requestId, rb);
        }
        if (hit > 0) {
            // Take the hit blocks off the free queue before allocating, so the allocation cannot evict them.
            pool.touch(prefix.blocks());
            rb.blocks.addAll(prefix.blocks());
            for (long h : prefix.hashes()) rb.addHash(h);
        }
        rb.blocks.addAll(pool.allocate(toAllocate));
        return true;
    }

    /**
     * Publishes the request's blocks that became full now that its first {@code numComputedTokens} tokens are in the
     * cache, reporting them as stored. Called after the forward pass, so other requests only ever find blocks whose
     * K/V are written.
     */
    public void cacheComputedBlocks(String requestId, int[] tokens, int numComputedTokens) {
        if (!prefixCaching) return;
        RequestBlocks rb = byRequest.get(requestId);
        if (rb == null) return;
        int numFull = Math.min(numComputedTokens / blockSize, rb.blocks.size());
        int runStart = -1;
        Long runParent = null;
        for (int i = rb.numHashed; i < numFull; i++) {
            Long parent = i == 0 ? null : rb.hashes[i - 1];
            long h = hasher.hashBlock(parent, tokens, i * blockSize);
            boolean fresh = pool.cache(rb.blocks.get(i), h);
            rb.addHash(h);
            if (fresh && runStart < 0) {
                runStart = i;
                runParent = parent;
            } else if (!fresh && runStart >= 0) {
                report(rb, tokens, runParent, runStart, i);
                runStart = -1;
            }
        }
        if (runStart >= 0) report(rb, tokens, runParent, runStart, numFull);
    }

    /** The request's physical block ids in logical order. */
    public int[] blockTable(String requestId) {
        RequestBlocks rb = byRequest.get(requestId);
        if (rb == null) return new int[0];
        int[] out = new int[rb.blocks.size()];
        for (int i = 0; i < out.length; i++) out[i] = rb.blocks.get(i).id();
        return out;
    }

    public int numBlocksHeld(String requestId) {
        RequestBlocks rb = byRequest.get(requestId);
        return rb == null ? 0 : rb.blocks.size();
    }

    /** Gives back every block the request holds. Its tail blocks go first in the free queue: they are the least likely to be shared. */
    public void free(String requestId) {
        RequestBlocks rb = byRequest.remove(requestId);
        if (rb == null) return;
        List<KvBlock> reversed = new ArrayList<>(rb.blocks);
        Collections.reverse(reversed);
        pool.free(reversed);
    }

    public boolean resetPrefixCache() { return pool.resetPrefixCache(); }

    public List<KvEvent> drainEvents() { return pool.drainEvents(); }

    private void report(RequestBlocks rb, int[] tokens, Long parent, int from, int to) {
        pool.reportStored(parent, Arrays.copyOfRange(rb.hashes, from, to),
                Arrays.copyOfRange(tokens, from * blockSize, to * blockSize));
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
