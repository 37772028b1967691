package ai.arbor.gpu.kv;

import ai.arbor.gpu.protocol.KvEvent;
import ai.arbor.gpu.backend.KvBlockCopier;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dynamo KVBM's "G2": a bounded pool of KV blocks in host memory (off-heap), filled with the cached blocks the primary
 * pool evicts, in LRU order. A prefix hit here is copied back into a primary block instead of being recomputed. The
 * tiers are exclusive: a block moves down on eviction and up on a hit, and a copy recomputed above is dropped here.
 *
 * <p>Besides the primary pool's own events, the tier reports the <em>reachable</em> set, every block held in either
 * tier, as its own event stream ({@link #drainEvents}, ids from 0): a block enters it when the primary pool first
 * stores it and leaves when it drops out of both. A router that indexes both streams knows, per worker, which leading
 * blocks are a device hit and which a host hit. Engine thread only.
 *
 * <p>Copies go in batches ({@link KvBlockCopier}'s batched calls): an eviction only reserves a slot and notes the
 * block; {@link #flushOffloads} reads every noted block in one call. The owner flushes after each allocation, before
 * anything can overwrite the evicted blocks, and every read of a slot here flushes first.
 */
public final class HostKvTier {
    private static final int MAX_SEGMENT_BYTES = 1 << 30;

    /** A block held here: its slot and what re-announcing it needs. */
    record Entry(long hash, int slot, Long parentHash, int[] tokens) {}

    private final KvBlockCopier copier;
    private final int blockBytes;
    private final int capacity;
    private final int blocksPerSegment;
    private final ByteBuffer[] segments;
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    /** Evicted primary blocks whose bytes are still to be read: slot -> primary block id. */
    private final LinkedHashMap<Integer, Integer> pendingReads = new LinkedHashMap<>();
    private final LinkedHashMap<Long, Entry> lru = new LinkedHashMap<>(64, 0.75f, true);
    private final List<KvEvent> pendingEvents = new ArrayList<>();
    private long nextEventId;
    private long offloaded;
    private long onboarded;

    /**
     * @param memoryBytes host memory for the tier; it holds {@code memoryBytes / blockBytes} blocks
     */
    public HostKvTier(KvBlockCopier copier, long memoryBytes) {
        long bytes = copier.blockBytes();
        if (bytes <= 0 || bytes > MAX_SEGMENT_BYTES) {
            throw new IllegalArgumentException("a KV block of " + bytes + " bytes cannot go to the host tier");
        }
        long blocks = memoryBytes / bytes;
        if (blocks < 1) {
            throw new IllegalArgumentException("host KV memory of " + memoryBytes + " bytes holds no block of " + bytes
                    + " bytes");
        }
        if (blocks > Integer.MAX_VALUE) blocks = Integer.MAX_VALUE;
        this.copier = copier;
        this.blockBytes = (int) bytes;
        this.capacity = (int) blocks;
        this.blocksPerSegment = MAX_SEGMENT_BYTES / blockBytes;
        int numSegments = (capacity + blocksPerSegment - 1) / blocksPerSegment;
        this.segments = new ByteBuffer[numSegments];
        for (int s = 0; s < numSegments; s++) {
            int n = Math.min(blocksPerSegment, capacity - s * blocksPerSegment);
            segments[s] = ByteBuffer.allocateDirect(n * blockBytes);
        }
        for (int i = 0; i < capacity; i++) freeSlots.add(i);
    }

    public int capacity() { return capacity; }

    /** Blocks held now. */
    public int size() { return lru.size(); }

    /** Blocks copied down from the primary pool so far. */
    public long offloaded() { return offloaded; }

    /** Blocks copied back up on a prefix hit so far. */
    public long onboarded() { return onboarded; }

    public boolean contains(long hash) { return lru.containsKey(hash); }

    /**
     * The primary pool is about to reuse {@code b}: its content moves here, pushing out the least recently used block
     * when full (that one leaves the reachable set).
     */
    void offload(KvBlock b) {
        if (lru.containsKey(b.hash)) return;
        if (freeSlots.isEmpty() && !lru.isEmpty()) evictLeastRecent();
        if (freeSlots.isEmpty()) {
            // every slot is being onboarded right now: the block is lost to both tiers
            removed(b.hash);
            return;
        }
        int slot = freeSlots.pop();
        pendingReads.put(slot, b.id());
        lru.put(b.hash, new Entry(b.hash, slot, b.parentHash, b.tokens));
        offloaded++;
    }

    /**
     * Reads the blocks evicted since the last flush into their slots, in one batched copy. Must run before the primary
     * blocks they came from are written again (by a forward pass, an onboard or an import).
     */
    void flushOffloads() {
        if (pendingReads.isEmpty()) return;
        int[] ids = new int[pendingReads.size()];
        ByteBuffer[] dsts = new ByteBuffer[ids.length];
        int i = 0;
        for (Map.Entry<Integer, Integer> p : pendingReads.entrySet()) {
            ids[i] = p.getValue();
            dsts[i++] = slotBuffer(p.getKey());
        }
        pendingReads.clear();
        copier.read(ids, dsts);
    }

    /**
     * Takes the block out of the tier for onboarding: its slot stays reserved (no offload can overwrite it) until
     * {@link #onboard} copies it up. Null when the tier does not hold it.
     */
    Entry take(long hash) { return lru.remove(hash); }

    /** Copies {@link #take taken} blocks into primary blocks {@code blockIds} (one batched copy) and frees their slots. */
    void onboard(Entry[] taken, int[] blockIds) {
        flushOffloads();
        ByteBuffer[] srcs = new ByteBuffer[taken.length];
        for (int i = 0; i < taken.length; i++) srcs[i] = slotBuffer(taken[i].slot());
        copier.write(blockIds, srcs);
        for (Entry e : taken) freeSlots.push(e.slot());
        onboarded += taken.length;
    }

    /** The block's entry without touching its LRU position, or null. */
    Entry peek(long hash) {
        Entry e = lru.remove(hash);
        if (e != null) lru.put(hash, e);
        return e;
    }

    /** Copies a held block's bytes into {@code dst} (advancing it), for a peer. */
    void copyOut(Entry e, ByteBuffer dst) {
        flushOffloads();
        dst.put(slotBuffer(e.slot()));
    }

    /** The primary pool computed this block again: the copy here is redundant (it stays reachable). */
    boolean discard(long hash) {
        Entry e = lru.remove(hash);
        if (e == null) return false;
        release(e.slot());
        return true;
    }

    /** Blocks the primary pool newly holds; the reachable set gains those not already in it. */
    void stored(Long parentHash, long[] hashes, int[] tokens, int blockSize) {
        pendingEvents.add(new KvEvent.BlockStored(nextEventId++, parentHash, hashes, tokens, blockSize));
    }

    void removed(long hash) {
        pendingEvents.add(new KvEvent.BlockRemoved(nextEventId++, new long[] {hash}));
    }

    /** Both tiers were dropped. */
    void clear() {
        for (Iterator<Entry> it = lru.values().iterator(); it.hasNext(); ) {
            release(it.next().slot());
            it.remove();
        }
        pendingEvents.add(new KvEvent.AllBlocksCleared(nextEventId++));
    }

    /** Reachable-set events since the last drain, oldest first. */
    List<KvEvent> drainEvents() {
        if (pendingEvents.isEmpty()) return List.of();
        List<KvEvent> out = List.copyOf(pendingEvents);
        pendingEvents.clear();
        return out;
    }

    private void evictLeastRecent() {
        Iterator<Map.Entry<Long, Entry>> it = lru.entrySet().iterator();
        Entry e = it.next().getValue();
        it.remove();
        release(e.slot());
        removed(e.hash());
    }

    /** The slot holds nothing worth keeping: a read still noted for it is dropped, as a later one may reuse it. */
    private void release(int slot) {
        pendingReads.remove(slot);
        freeSlots.push(slot);
    }

    private ByteBuffer slotBuffer(int slot) {
        ByteBuffer seg = segments[slot / blocksPerSegment];
        int off = (slot % blocksPerSegment) * blockBytes;
        return seg.duplicate().position(off).limit(off + blockBytes);
    }
}
