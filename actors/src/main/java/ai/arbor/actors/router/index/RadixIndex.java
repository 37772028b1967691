package ai.arbor.actors.router.index;

import ai.arbor.actors.kvevents.BlockEvent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which worker has which prefix cached: a radix tree keyed by the router's local block hashes (see
 * {@link TokenBlockHasher}), each node holding the set of workers that have that block, fed by the workers' KV events.
 *
 * <p>Engines name blocks by their own hashes; the index keys its tree by the local hashes the workers computed (events
 * carry no token ids) and keeps,
 * per worker, a map from the engine's block hash to the tree node, so a removal (which carries only engine hashes)
 * finds its node in O(1) and engines may change their hashing freely.
 *
 * <p>Event ids are checked per worker: a repeat is ignored (so a snapshot plus a replay that overlaps it gives the same
 * index), and a gap drops that worker's blocks, because the missing events may have removed some of them.
 *
 * <p>Layout (for speed at millions of blocks, where every event is a few cache misses): nodes are int ids in
 * {@link RadixNodes}, all edges are one {@link NodeIdTable} keyed by (local hash, parent id), and each worker's engine
 * hash → node map is a {@link NodeIdTable} too.
 *
 * <p>Not thread-safe: one thread (or actor) owns it; {@code KvIndexer} adds locking for shared use.
 */
public final class RadixIndex {
    private final int blockSize;
    private final TokenBlockHasher hasher;
    final RadixNodes nodes;
    /** Every edge: (child's local hash, parent id) → child id. */
    final NodeIdTable children;
    private final LongObjectMap<WorkerBlocks> workers = new LongObjectMap<>();
    private WorkerBlocks[] bySlot = new WorkerBlocks[64];
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private int nextSlot;
    /** The worker of the last event applied: events come in batches of one worker, so this saves a lookup each. */
    private WorkerBlocks lastWorker;
    long nodeCount;

    private long eventsApplied;
    private long duplicates;
    private long gaps;
    private long orphanStores;
    private final EventPrefetcher prefetcher = new EventPrefetcher(this);

    public RadixIndex(int blockSize) {
        this(blockSize, 1024);
    }

    RadixIndex(int blockSize, int expectedNodes) {
        this.hasher = new TokenBlockHasher(blockSize);
        this.blockSize = blockSize;
        this.nodes = new RadixNodes(expectedNodes + 1);
        this.children = new NodeIdTable(expectedNodes);
    }

    public int blockSize() { return blockSize; }

    public TokenBlockHasher hasher() { return hasher; }

    /** Applies one event of {@code workerId}; see {@link ApplyResult}. Malformed events throw IllegalArgumentException. */
    public ApplyResult apply(long workerId, BlockEvent event) {
        WorkerBlocks w = lastWorker;
        if (w == null || w.workerId != workerId) {
            w = workers.get(workerId);
            if (w == null) w = addWorker(workerId);
            lastWorker = w;
        }
        long id = event.eventId();
        if (id <= w.lastEventId) {
            duplicates++;
            return ApplyResult.DUPLICATE;
        }
        validate(workerId, event);
        ApplyResult result = ApplyResult.APPLIED;
        if (id != w.lastEventId + 1) {
            clearBlocks(w);
            gaps++;
            result = ApplyResult.GAP;
        }
        if (event instanceof BlockEvent.Stored s) {
            store(w, s);
        } else if (event instanceof BlockEvent.Removed r) {
            for (long h : r.blockHashes()) removeBlock(w, h);
        } else {
            clearBlocks(w);
        }
        w.lastEventId = id;
        eventsApplied++;
        return result;
    }

    /**
     * Warms the cache for a batch of one worker's events before they are applied one by one, in order, with
     * {@link #apply}: see {@link EventPrefetcher}. Changes nothing but timing.
     */
    public void prefetch(long workerId, List<BlockEvent> events) {
        WorkerBlocks w = workers.get(workerId);
        if (w != null) prefetcher.prefetch(w.blocks, events);
    }

    boolean wellFormed(BlockEvent.Stored s) {
        return s.blockSize() == blockSize && s.blockHashes().length == s.localHashes().length;
    }

    private void validate(long workerId, BlockEvent event) {
        if (event instanceof BlockEvent.Stored s && !wellFormed(s)) {
            if (s.blockSize() != blockSize) {
                throw new IllegalArgumentException("worker " + workerId + " event " + s.eventId() + ": block size "
                        + s.blockSize() + " but the router indexes blocks of " + blockSize + " tokens");
            }
            throw new IllegalArgumentException("worker " + workerId + " event " + s.eventId() + ": "
                    + s.blockHashes().length + " block hashes but " + s.localHashes().length + " local hashes");
        }
    }

    private void store(WorkerBlocks w, BlockEvent.Stored s) {
        int node = RadixNodes.ROOT;
        if (s.parentBlockHash() != null) {
            node = w.blocks.get(s.parentBlockHash(), 0);
            if (node == 0) {
                // the parent was evicted or never seen: without it the chain (and so the prefix) is unknown
                orphanStores++;
                return;
            }
        }
        long[] engineHashes = s.blockHashes();
        long[] locals = s.localHashes();
        for (int b = 0; b < engineHashes.length; b++) {
            long local = locals[b];
            int child = child(node, local);
            if (child == 0) child = addChild(node, local);
            int previous = w.blocks.put(engineHashes[b], 0, child);
            if (previous != child) {
                nodes.pin(child);
                if (nodes.hasWorker(child, w.slot)) w.addAlias(child);
                if (previous != 0) drop(w, previous);
            }
            nodes.addWorker(child, w.slot);
            node = child;
        }
    }

    private int addChild(int parent, long local) {
        long seq = parent == RadixNodes.ROOT ? local : TokenBlockHasher.chain(nodes.sequenceHash(parent), local);
        int child = nodes.create(parent, local, seq);
        children.put(local, parent, child);
        nodes.noteChild(parent, local, child);
        nodes.pin(parent);
        nodeCount++;
        return child;
    }

    /** The child of {@code node} reached by {@code local}, 0 if none. */
    private int child(int node, long local) {
        int child = nodes.inlineChild(node, local);
        return child != 0 ? child : children.get(local, node);
    }

    private void removeBlock(WorkerBlocks w, long engineHash) {
        int node = w.blocks.remove(engineHash, 0);
        if (node != 0) drop(w, node);
    }

    /**
     * One of the worker's table entries naming {@code node} is gone: takes the worker off it unless another of its
     * entries still names it, and prunes nodes left with no pins (no child, no entry) up the chain.
     */
    private void drop(WorkerBlocks w, int node) {
        if (!w.releaseAlias(node)) nodes.removeWorker(node, w.slot);
        while (node != RadixNodes.ROOT && nodes.unpin(node) == 0) {
            int parent = nodes.parent(node);
            children.remove(nodes.localHash(node), parent);
            nodes.forgetChild(parent, node);
            nodes.release(node);
            nodeCount--;
            node = parent;
        }
    }

    private void clearBlocks(WorkerBlocks w) {
        w.blocks.forEach((h, owner, node) -> drop(w, node));
        w.blocks.clear();
        w.aliases = null;
    }

    private WorkerBlocks addWorker(long workerId) {
        int slot = freeSlots.isEmpty() ? nextSlot++ : freeSlots.pop();
        if (slot >= bySlot.length) bySlot = Arrays.copyOf(bySlot, bySlot.length * 2);
        nodes.ensureSlots(slot + 1);
        WorkerBlocks w = new WorkerBlocks(workerId, slot);
        bySlot[slot] = w;
        workers.put(workerId, w);
        return w;
    }

    /** Forgets a worker that left the cluster: its blocks, its slot and its event-id history. */
    public boolean removeWorker(long workerId) {
        WorkerBlocks w = workers.remove(workerId);
        if (w == null) return false;
        if (lastWorker == w) lastWorker = null;
        clearBlocks(w);
        bySlot[w.slot] = null;
        freeSlots.push(w.slot);
        return true;
    }

    /** Drops a worker's blocks but keeps its event-id position (after a resync request, before its fresh dump). */
    public void clearWorker(long workerId) {
        WorkerBlocks w = workers.get(workerId);
        if (w != null) clearBlocks(w);
    }

    /** Cached leading-block counts per worker for a request whose full blocks have these local hashes. */
    public OverlapScores findMatches(long[] localHashes) {
        int node = RadixNodes.ROOT;
        long[] active = null;
        int[] depthBySlot = null;
        int depth = 0;
        for (long h : localHashes) {
            int child = child(node, h);
            if (child == 0) break;
            if (active == null) {
                active = new long[(nextSlot + 63) >>> 6];
                for (int i = 0; i < active.length; i++) active[i] = nodes.word(child, i);
                depthBySlot = new int[nextSlot];
            } else {
                boolean any = false;
                for (int i = 0; i < active.length; i++) {
                    long keep = active[i] & nodes.word(child, i);
                    long dropped = active[i] & ~keep;
                    while (dropped != 0) {
                        int bit = Long.numberOfTrailingZeros(dropped);
                        depthBySlot[(i << 6) + bit] = depth;
                        dropped &= dropped - 1;
                    }
                    active[i] = keep;
                    any |= keep != 0;
                }
                if (!any) break;
            }
            depth++;
            node = child;
        }
        if (active == null) return new OverlapScores(new long[0], new int[0], localHashes.length);
        for (int i = 0; i < active.length; i++) {
            long bits = active[i];
            while (bits != 0) {
                int bit = Long.numberOfTrailingZeros(bits);
                depthBySlot[(i << 6) + bit] = depth;
                bits &= bits - 1;
            }
        }
        int n = 0;
        for (int d : depthBySlot) if (d > 0) n++;
        long[] ids = new long[n];
        int[] depths = new int[n];
        int k = 0;
        for (int slot = 0; slot < depthBySlot.length; slot++) {
            if (depthBySlot[slot] > 0) {
                ids[k] = bySlot[slot].workerId;
                depths[k++] = depthBySlot[slot];
            }
        }
        return new OverlapScores(ids, depths, localHashes.length);
    }

    /** {@link #findMatches(long[])} for a request's token ids (only full blocks count). */
    public OverlapScores findMatchesForTokens(int[] tokenIds) {
        return findMatches(hasher.localHashes(tokenIds));
    }

    public int workerCount() { return workers.size(); }

    public long nodeCount() { return nodeCount; }

    public List<Long> workerIds() {
        List<Long> ids = new ArrayList<>();
        workers.forEach((id, w) -> ids.add(id));
        ids.sort(null);
        return ids;
    }

    /** Blocks the worker has cached as far as the index knows (0 for an unknown worker). */
    public int blockCount(long workerId) {
        WorkerBlocks w = workers.get(workerId);
        return w == null ? 0 : w.blocks.size();
    }

    /** The last event id applied for the worker, -1 if none. */
    public long lastEventId(long workerId) {
        WorkerBlocks w = workers.get(workerId);
        return w == null ? -1 : w.lastEventId;
    }

    public long eventsApplied() { return eventsApplied; }

    public long duplicateEvents() { return duplicates; }

    public long gaps() { return gaps; }

    public long orphanStores() { return orphanStores; }

    /**
     * The index's content in a canonical form, for comparing two indexes: per worker, its last event id and its blocks
     * as engine hash → router sequence hash.
     */
    public Map<Long, WorkerContent> content() {
        Map<Long, WorkerContent> out = new TreeMap<>();
        workers.forEach((id, w) -> {
            TreeMap<Long, Long> blocks = new TreeMap<>();
            w.blocks.forEach((h, owner, node) -> blocks.put(h, nodes.sequenceHash(node)));
            out.put(id, new WorkerContent(w.lastEventId, blocks));
        });
        return out;
    }

    public record WorkerContent(long lastEventId, Map<Long, Long> engineHashToSequenceHash) {}

    /**
     * The whole index as bytes: the tree breadth-first (each node after its parent), then every worker's event-id
     * position and its engine-hash → node map (format: {@code RadixIndexSnapshot}). {@link #restore} rebuilds an index
     * that behaves identically.
     */
    public byte[] snapshot() {
        return RadixIndexSnapshot.write(this);
    }

    /** Rebuilds an index from {@link #snapshot()} bytes; a damaged or foreign snapshot throws IllegalArgumentException. */
    public static RadixIndex restore(byte[] snapshot) {
        return RadixIndexSnapshot.read(snapshot);
    }

    /** Every worker, in no particular order. */
    void forEachWorker(LongObjectMap.Visitor<WorkerBlocks> visitor) {
        workers.forEach(visitor);
    }

    /** Adds a worker with this event-id position (restoring a snapshot). */
    WorkerBlocks restoreWorker(long workerId, long lastEventId) {
        WorkerBlocks w = addWorker(workerId);
        w.lastEventId = lastEventId;
        return w;
    }

    /** Restoring a snapshot: node {@code parent}'s child, exactly as a store would have made it. */
    int restoreChild(int parent, long local) {
        return addChild(parent, local);
    }

    /** Restoring a snapshot: the worker holds {@code node} under {@code engineHash}. */
    void restoreBlock(WorkerBlocks w, long engineHash, int node) {
        if (w.blocks.put(engineHash, 0, node) != 0) throw new IllegalArgumentException("snapshot worker "
                + w.workerId + " lists engine hash " + engineHash + " twice");
        nodes.pin(node);
        if (nodes.hasWorker(node, w.slot)) w.addAlias(node);
        nodes.addWorker(node, w.slot);
    }

    /** One worker's part of the index. */
    static final class WorkerBlocks {
        final long workerId;
        final int slot;
        /** engine block hash (owner 0) → node id */
        final NodeIdTable blocks = new NodeIdTable(64);
        long lastEventId = -1;
        /**
         * Nodes the worker holds under more than one engine hash (an engine that stored the same tokens twice, e.g.
         * under two LoRA adapters) → how many hashes beyond the first; null while there are none, as almost always.
         */
        NodeIdTable aliases;

        WorkerBlocks(long workerId, int slot) {
            this.workerId = workerId;
            this.slot = slot;
        }

        void addAlias(int node) {
            if (aliases == null) aliases = new NodeIdTable();
            aliases.put(node, 0, aliases.get(node, 0) + 1);
        }

        /** Returns false if no other engine hash of this worker names {@code node}; else counts one fewer. */
        boolean releaseAlias(int node) {
            if (aliases == null) return false;
            int extra = aliases.get(node, 0);
            if (extra == 0) return false;
            if (extra == 1) aliases.remove(node, 0);
            else aliases.put(node, 0, extra - 1);
            return true;
        }
    }
}
