package ai.arbor.gpu.kv;

import ai.arbor.gpu.protocol.KvEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fixed set of KV blocks with their reference counts. Blocks nobody uses sit in a free queue in LRU order; a
 * freed full block keeps its hash and stays findable for prefix caching until it is reused for something else
 * (evicted), which is reported as {@link KvEvent.BlockRemoved}. Events wait here until the engine drains them once
 * per step. Engine thread only.
 */
public final class BlockPool {
    private final KvBlock[] blocks;
    private final FreeBlockQueue free = new FreeBlockQueue();
    private final Map<Long, KvBlock> cachedByHash = new HashMap<>();
    private final List<KvEvent> pendingEvents = new ArrayList<>();
    private final int blockSize;
    private long nextEventId;
    private EvictionSink evictionSink;

    /** Sees each cached block just before its slot is reused, while its K/V are still there to copy. */
    @FunctionalInterface
    public interface EvictionSink {
        void evicting(KvBlock block);
    }

    public BlockPool(int numBlocks, int blockSize) {
        if (numBlocks <= 0) throw new IllegalArgumentException("numBlocks must be positive, got " + numBlocks);
        if (blockSize <= 0) throw new IllegalArgumentException("blockSize must be positive, got " + blockSize);
        this.blockSize = blockSize;
        blocks = new KvBlock[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            blocks[i] = new KvBlock(i);
            free.append(blocks[i]);
        }
    }

    public int numBlocks() { return blocks.length; }

    public void setEvictionSink(EvictionSink sink) { this.evictionSink = sink; }

    public int blockSize() { return blockSize; }

    /** Blocks that can be handed out now, cached-but-unused ones included. */
    public int numFreeBlocks() { return free.size(); }

    /** Blocks some request holds. */
    public int numActiveBlocks() { return blocks.length - free.size(); }

    /** Full blocks findable by hash, used or not. */
    public int numCachedBlocks() { return cachedByHash.size(); }

    public KvBlock block(int id) { return blocks[id]; }

    /** The block holding the full block with this hash, or null. */
    public KvBlock cachedBlock(long hash) { return cachedByHash.get(hash); }

    /**
     * Takes {@code n} blocks from the head of the free queue with a reference each, evicting whatever cached content
     * they held.
     */
    public List<KvBlock> allocate(int n) {
        if (n > free.size()) {
            throw new IllegalStateException("asked for " + n + " KV blocks, only " + free.size() + " free");
        }
        List<KvBlock> out = new ArrayList<>(n);
        long[] evicted = null;
        int numEvicted = 0;
        for (int i = 0; i < n; i++) {
            KvBlock b = free.popFront();
            if (b.hashed) {
                if (evicted == null) evicted = new long[n - i];
                evicted[numEvicted++] = b.hash;
                if (evictionSink != null) evictionSink.evicting(b);
                uncache(b);
            }
            b.refCount = 1;
            out.add(b);
        }
        if (numEvicted > 0) {
            pendingEvents.add(new KvEvent.BlockRemoved(nextEventId++, Arrays.copyOf(evicted, numEvicted)));
        }
        return out;
    }

    /** Adds a reference to each block (a prefix-cache hit); a block nobody used leaves the free queue. */
    public void touch(List<KvBlock> hit) {
        for (KvBlock b : hit) {
            if (b.refCount == 0) free.remove(b);
            b.refCount++;
        }
    }

    /**
     * Drops one reference from each block; blocks nobody uses any more join the tail of the free queue in the given
     * order, so pass the blocks to evict first first.
     */
    public void free(List<KvBlock> release) {
        for (KvBlock b : release) {
            if (b.refCount <= 0) throw new IllegalStateException(b + " freed more often than allocated");
            if (--b.refCount == 0) free.append(b);
        }
    }

    /**
     * Makes a full block findable under {@code hash}. Returns false when another block already holds the same
     * content (two requests computed the same prefix at once); this one then stays anonymous and is recycled
     * normally.
     */
    public boolean cache(KvBlock b, long hash) {
        if (b.hashed) throw new IllegalStateException(b + " is already cached");
        if (cachedByHash.putIfAbsent(hash, b) != null) return false;
        b.hash = hash;
        b.hashed = true;
        return true;
    }

    /** Records that blocks became reusable; {@code tokenIds} holds their tokens back to back. */
    public void reportStored(Long parentHash, long[] hashes, int[] tokenIds) {
        pendingEvents.add(new KvEvent.BlockStored(nextEventId++, parentHash, hashes, tokenIds, blockSize));
    }

    /**
     * Forgets every cached block, as vLLM's reset_prefix_cache. Only possible while no request holds a block, since
     * running requests may still share what would be forgotten.
     *
     * @return false (and changes nothing) while some block is in use
     */
    public boolean resetPrefixCache() {
        if (numActiveBlocks() > 0) return false;
        for (KvBlock b : blocks) {
            b.hashed = false;
            b.hash = 0;
            b.parentHash = null;
            b.tokens = null;
        }
        cachedByHash.clear();
        pendingEvents.add(new KvEvent.AllBlocksCleared(nextEventId++));
        return true;
    }

    /** The events since the last drain, oldest first. */
    public List<KvEvent> drainEvents() {
        if (pendingEvents.isEmpty()) return List.of();
        List<KvEvent> out = List.copyOf(pendingEvents);
        pendingEvents.clear();
        return out;
    }

    private void uncache(KvBlock b) {
        cachedByHash.remove(b.hash, b);
        b.hashed = false;
        b.hash = 0;
        b.parentHash = null;
        b.tokens = null;
    }
}
