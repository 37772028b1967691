package ai.arbor.gpu.kv;

import ai.arbor.gpu.backend.KvBlockCopier;
import ai.arbor.gpu.protocol.KvEvent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

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
    /** Where evicted cached blocks go, or null without a host tier. */
    private final HostKvTier host;

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
        this(numBlocks, blockSize, enablePrefixCaching, null);
    }

    /** With {@code host} (may be null), cached blocks the pool evicts move there and come back on a hit. */
    public KvCacheManager(int numBlocks, int blockSize, boolean enablePrefixCaching, HostKvTier host) {
        this.pool = new BlockPool(numBlocks, blockSize);
        this.hasher = new BlockHasher(blockSize);
        this.blockSize = blockSize;
        this.prefixCaching = enablePrefixCaching;
        this.host = enablePrefixCaching ? host : null;
        if (this.host != null) pool.setEvictionSink(this.host::offload);
    }

    /** The host tier, or null. */
    public HostKvTier hostTier() { return host; }

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
        int i = 0;
        boolean hostNext = false;
        for (; i < maxBlocks; i++) {
            long h = hasher.hashBlock(parent, tokens, i * blockSize);
            KvBlock b = pool.cachedBlock(h);
            if (b == null) {
                hostNext = host != null && host.contains(h);
                hashes[i] = h;
                break;
            }
            hit.add(b);
            hashes[i] = h;
            parent = h;
        }
        int numHost = 0;
        if (hostNext) {
            parent = hashes[i];
            numHost = 1;
            for (int j = i + 1; j < maxBlocks; j++) {
                long h = hasher.hashBlock(parent, tokens, j * blockSize);
                if (!host.contains(h)) break;
                hashes[j] = h;
                parent = h;
                numHost++;
            }
        }
        if (hit.isEmpty() && numHost == 0) return CachedPrefix.NONE;
        return new CachedPrefix(List.copyOf(hit), Arrays.copyOf(hashes, hit.size()),
                Arrays.copyOfRange(hashes, hit.size(), hit.size() + numHost), (hit.size() + numHost) * blockSize);
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
        int hostHit = prefix == null ? 0 : prefix.hostHashes().length;
        if ((hit > 0 || hostHit > 0) && held > 0) throw new IllegalStateException(requestId + " already holds blocks");
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
        // Reserve the host blocks before allocating: the evictions it causes move blocks down and must not push
        // these out.
        HostKvTier.Entry[] up = new HostKvTier.Entry[hostHit];
        for (int i = 0; i < hostHit; i++) {
            up[i] = host.take(prefix.hostHashes()[i]);
            if (up[i] == null) throw new IllegalStateException("host KV block " + Long.toHexString(prefix.hostHashes()[i])
                    + " left the tier between lookup and admission");
        }
        List<KvBlock> fresh = allocate(toAllocate);
        rb.blocks.addAll(fresh);
        if (hostHit > 0) onboard(rb, up, fresh);
        return true;
    }

    /** Fresh blocks; the cached blocks this evicts are read down to the host tier (one batched copy) before return. */
    private List<KvBlock> allocate(int n) {
        List<KvBlock> fresh = pool.allocate(n);
        if (host != null) host.flushOffloads();
        return fresh;
    }

    /** Copies reserved host blocks into the first fresh blocks and caches them as the request's next hashed blocks. */
    private void onboard(RequestBlocks rb, HostKvTier.Entry[] up, List<KvBlock> fresh) {
        int from = rb.numHashed;
        int[] tokens = new int[up.length * blockSize];
        int[] ids = new int[up.length];
        for (int i = 0; i < up.length; i++) ids[i] = fresh.get(i).id();
        host.onboard(up, ids);
        for (int i = 0; i < up.length; i++) {
            KvBlock b = fresh.get(i);
            HostKvTier.Entry e = up[i];
            if (pool.cache(b, e.hash())) {
                b.parentHash = e.parentHash();
                b.tokens = e.tokens();
            }
            rb.addHash(e.hash());
            System.arraycopy(e.tokens(), 0, tokens, i * blockSize, blockSize);
        }
        pool.reportStored(up[0].parentHash(), Arrays.copyOfRange(rb.hashes, from, rb.numHashed), tokens);
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
            KvBlock b = rb.blocks.get(i);
            boolean fresh = pool.cache(b, h);
            rb.addHash(h);
            if (fresh) {
                b.parentHash = parent;
                b.tokens = Arrays.copyOfRange(tokens, i * blockSize, (i + 1) * blockSize);
                if (host != null) host.discard(h);
            }
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

    /** Hashes of the full blocks of {@code tokens} a prefix hit may cover (not the block of the last token). */
    public long[] prefixHashes(int[] tokens) {
        return hasher.hashFullBlocks(tokens, ((tokens.length - 1) / blockSize) * blockSize);
    }

    /** Leading blocks of the chain held in either tier. */
    public int heldPrefix(long[] hashes) {
        int n = 0;
        while (n < hashes.length && (pool.cachedBlock(hashes[n]) != null || (host != null && host.contains(hashes[n])))) n++;
        return n;
    }

    /** Copies out the leading run of the chain that either tier holds, for a peer, into a buffer from {@code buffers}. */
    public KvBlockBatch exportBlocks(long[] hashes, KvBlockCopier copier, IntFunction<ByteBuffer> buffers) {
        int n = heldPrefix(hashes);
        int bytes = (int) copier.blockBytes();
        if (n == 0) return KvBlockBatch.empty(blockSize, bytes);
        ByteBuffer data = buffers.apply(n * bytes);
        int[] tokens = new int[n * blockSize];
        Long parent = null;
        // primary blocks in runs, each run one batched copy; a block of the host tier ends a run
        int[] run = new int[n];
        int runLength = 0;
        for (int i = 0; i < n; i++) {
            KvBlock b = pool.cachedBlock(hashes[i]);
            int[] blockTokens;
            Long blockParent;
            if (b != null) {
                run[runLength++] = b.id();
                blockTokens = b.tokens;
                blockParent = b.parentHash;
            } else {
                if (runLength > 0) copier.read(Arrays.copyOf(run, runLength), data);
                runLength = 0;
                HostKvTier.Entry e = host.peek(hashes[i]);
                host.copyOut(e, data);
                blockTokens = e.tokens();
                blockParent = e.parentHash();
            }
            if (i == 0) parent = blockParent;
            System.arraycopy(blockTokens, 0, tokens, i * blockSize, blockSize);
        }
        if (runLength > 0) copier.read(Arrays.copyOf(run, runLength), data);
        data.flip();
        return new KvBlockBatch(parent, Arrays.copyOf(hashes, n), tokens, blockSize, bytes, data);
    }

    /**
     * Writes a peer's blocks into free primary blocks and caches them there (free, so LRU may evict them like any
     * cached block), announcing them as stored. Stops at the first block already held (the rest of such a chain is
     * normally held too), or when no free block is left.
     *
     * @return blocks taken in
     */
    public int importBlocks(KvBlockBatch in, KvBlockCopier copier) {
        if (!prefixCaching || in.size() == 0) return 0;
        if (in.blockSize() != blockSize || in.blockBytes() != copier.blockBytes()) {
            throw new IllegalArgumentException("peer blocks of " + in.blockSize() + " tokens / " + in.blockBytes()
                    + " bytes do not fit this cache's " + blockSize + " tokens / " + copier.blockBytes() + " bytes");
        }
        int skip = heldPrefix(in.hashes());
        int n = Math.min(in.size() - skip, pool.numFreeBlocks());
        if (n <= 0) return 0;
        List<KvBlock> fresh = allocate(n);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = fresh.get(i).id();
        copier.write(ids, in.data().duplicate().position(skip * in.blockBytes()));
        Long parent = skip == 0 ? in.parentHash() : Long.valueOf(in.hashes()[skip - 1]);
        for (int i = 0; i < n; i++) {
            KvBlock b = fresh.get(i);
            int k = skip + i;
            long h = in.hashes()[k];
            if (pool.cache(b, h)) {
                b.parentHash = k == 0 ? in.parentHash() : Long.valueOf(in.hashes()[k - 1]);
                b.tokens = Arrays.copyOfRange(in.tokens(), k * blockSize, (k + 1) * blockSize);
                if (host != null) host.discard(h);
            }
        }
        long[] hashes = Arrays.copyOfRange(in.hashes(), skip, skip + n);
        int[] tokens = Arrays.copyOfRange(in.tokens(), skip * blockSize, (skip + n) * blockSize);
        pool.reportStored(parent, hashes, tokens);
        if (host != null) host.stored(parent, hashes, tokens, blockSize);
        // the leading blocks go last in the free queue: a prefix is worth more than its tail
        Collections.reverse(fresh);
        pool.free(fresh);
        return n;
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

    public boolean resetPrefixCache() {
        boolean ok = pool.resetPrefixCache();
        if (ok && host != null) host.clear();
        return ok;
    }

    public List<KvEvent> drainEvents() { return pool.drainEvents(); }

    /** Events of the reachable set (blocks in either tier; see {@link HostKvTier}); empty without a host tier. */
    public List<KvEvent> drainReachableEvents() { return host == null ? List.of() : host.drainEvents(); }

    private void report(RequestBlocks rb, int[] tokens, Long parent, int from, int to) {
        long[] hashes = Arrays.copyOfRange(rb.hashes, from, to);
        int[] ids = Arrays.copyOfRange(tokens, from * blockSize, to * blockSize);
        pool.reportStored(parent, hashes, ids);
        if (host != null) host.stored(parent, hashes, ids, blockSize);
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
