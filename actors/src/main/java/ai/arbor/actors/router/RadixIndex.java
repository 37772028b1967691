package ai.arbor.actors.router;

import ai.arbor.gpu.kv.KvEvent;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * <p>Engines name blocks by their own hashes; the index recomputes its hashes from the events' token ids and keeps,
 * per worker, a map from the engine's block hash to the tree node, so a removal (which carries only engine hashes)
 * finds its node in O(1) and engines may change their hashing freely.
 *
 * <p>Event ids are checked per worker: a repeat is ignored (so a snapshot plus a replay that overlaps it gives the same
 * index), and a gap drops that worker's blocks, because the missing events may have removed some of them.
 *
 * <p>Not thread-safe: one thread (or actor) owns it; {@link KvIndexer} adds locking for shared use.
 */
public final class RadixIndex {
    private static final int SNAPSHOT_MAGIC = 0x41524249; // "ARBI"
    private static final int SNAPSHOT_VERSION = 1;

    private final int blockSize;
    private final TokenBlockHasher hasher;
    private final RadixNode root = RadixNode.root();
    private final LongObjectMap<WorkerBlocks> workers = new LongObjectMap<>();
    private WorkerBlocks[] bySlot = new WorkerBlocks[64];
    private final ArrayDeque<Integer> freeSlots = new ArrayDeque<>();
    private int nextSlot;
    private long nodeCount;

    private long eventsApplied;
    private long duplicates;
    private long gaps;
    private long orphanStores;
    private byte[] hashBuf;

    public RadixIndex(int blockSize) {
        this.hasher = new TokenBlockHasher(blockSize);
        this.blockSize = blockSize;
        this.hashBuf = new byte[blockSize * 4];
    }

    public int blockSize() { return blockSize; }

    public TokenBlockHasher hasher() { return hasher; }

    /** Applies one event of {@code workerId}; see {@link ApplyResult}. Malformed events throw IllegalArgumentException. */
    public ApplyResult apply(long workerId, KvEvent event) {
        WorkerBlocks w = workers.get(workerId);
        if (w == null) w = addWorker(workerId);
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
        if (event instanceof KvEvent.BlockStored s) {
            store(w, s);
        } else if (event instanceof KvEvent.BlockRemoved r) {
            for (long h : r.blockHashes()) removeBlock(w, h);
        } else {
            clearBlocks(w);
        }
        w.lastEventId = id;
        eventsApplied++;
        return result;
    }

    /** Keeps {@link #prefetch}'s loads alive; its value means nothing. */
    private long prefetchSink;

    /**
     * Warms the cache for a batch of one worker's events before they are applied one by one: every per-worker table
     * cell and removed node they will touch is read first, in a loop whose loads do not depend on each other, so their
     * cache misses (the index is hundreds of megabytes at 64 workers x 100 k blocks) overlap instead of queueing.
     * Changes nothing but timing.
     */
    public void prefetch(long workerId, java.util.List<KvEvent> events) {
        WorkerBlocks w = workers.get(workerId);
        if (w == null) return;
        LongObjectMap<RadixNode> blocks = w.blocks;
        long sink = 0;
        for (KvEvent e : events) {
            if (e instanceof KvEvent.BlockRemoved r) {
                for (long h : r.blockHashes()) sink += blocks.touch(h);
            } else if (e instanceof KvEvent.BlockStored s) {
                if (s.parentBlockHash() != null) sink += blocks.touch(s.parentBlockHash());
                for (long h : s.blockHashes()) sink += blocks.touch(h);
            }
        }
        // second pass: the nodes removals will detach (their table cells are in cache by now), and their cells in the
        // parents' child tables, which pruning a leaf edits
        for (KvEvent e : events) {
            if (e instanceof KvEvent.BlockRemoved r) {
                for (long h : r.blockHashes()) {
                    RadixNode n = blocks.get(h);
                    if (n != null && n.parent != null) sink += n.parent.touchChild(n.localHash);
                }
            }
        }
        prefetchSink += sink;
    }

    private void validate(long workerId, KvEvent event) {
        if (event instanceof KvEvent.BlockStored s) {
            if (s.blockSize() != blockSize) {
                throw new IllegalArgumentException("worker " + workerId + " event " + s.eventId() + ": block size "
                        + s.blockSize() + " but the router indexes blocks of " + blockSize + " tokens");
            }
            if ((long) s.blockHashes().length * blockSize != s.tokenIds().length) {
                throw new IllegalArgumentException("worker " + workerId + " event " + s.eventId() + ": "
                        + s.blockHashes().length + " blocks of " + blockSize + " tokens need "
                        + (long) s.blockHashes().length * blockSize + " token ids, got " + s.tokenIds().length);
            }
        }
    }

    private void store(WorkerBlocks w, KvEvent.BlockStored s) {
        RadixNode node = root;
        if (s.parentBlockHash() != null) {
            node = w.blocks.get(s.parentBlockHash());
            if (node == null) {
                // the parent was evicted or never seen: without it the chain (and so the prefix) is unknown
                orphanStores++;
                return;
            }
        }
        int[] tokens = s.tokenIds();
        long[] engineHashes = s.blockHashes();
        for (int b = 0; b < engineHashes.length; b++) {
            long local = TokenBlockHasher.localHash(tokens, b * blockSize, blockSize, hashBuf);
            RadixNode child = node.child(local);
            if (child == null) {
                child = node.childOrCreate(local);
                nodeCount++;
            }
            RadixNode previous = w.blocks.put(engineHashes[b], child);
            if (previous != null && previous != child) detach(previous, w.slot);
            child.addWorker(w.slot);
            node = child;
        }
    }

    private void removeBlock(WorkerBlocks w, long engineHash) {
        RadixNode node = w.blocks.remove(engineHash);
        if (node != null) detach(node, w.slot);
    }

    /** Takes the worker off {@code node} and prunes nodes left with neither workers nor children. */
    private void detach(RadixNode node, int slot) {
        node.removeWorker(slot);
        while (!node.isRoot() && node.hasNoWorkers() && !node.hasChildren()) {
            node.parent.removeChild(node.localHash);
            nodeCount--;
            node = node.parent;
        }
    }

    private void clearBlocks(WorkerBlocks w) {
        w.blocks.forEach((h, node) -> detach(node, w.slot));
        w.blocks.clear();
    }

    private WorkerBlocks addWorker(long workerId) {
        int slot = freeSlots.isEmpty() ? nextSlot++ : freeSlots.pop();
        if (slot >= bySlot.length) bySlot = Arrays.copyOf(bySlot, bySlot.length * 2);
        WorkerBlocks w = new WorkerBlocks(workerId, slot);
        bySlot[slot] = w;
        workers.put(workerId, w);
        return w;
    }

    /** Forgets a worker that left the cluster: its blocks, its slot and its event-id history. */
    public boolean removeWorker(long workerId) {
        WorkerBlocks w = workers.remove(workerId);
        if (w == null) return false;
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
        RadixNode node = root;
        long[] active = null;
        int[] depthBySlot = null;
        int depth = 0;
        for (long h : localHashes) {
            RadixNode child = node.child(h);
            if (child == null) break;
            if (active == null) {
                active = new long[(nextSlot + 63) >>> 6];
                for (int i = 0; i < active.length; i++) active[i] = child.word(i);
                depthBySlot = new int[nextSlot];
            } else {
                boolean any = false;
                for (int i = 0; i < active.length; i++) {
                    long keep = active[i] & child.word(i);
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
            w.blocks.forEach((h, node) -> blocks.put(h, node.sequenceHash));
            out.put(id, new WorkerContent(w.lastEventId, blocks));
        });
        return out;
    }

    public record WorkerContent(long lastEventId, Map<Long, Long> engineHashToSequenceHash) {}

    /**
     * The whole index as bytes: the tree breadth-first (each node after its parent), then every worker's event-id
     * position and its engine-hash → node map. {@link #restore} rebuilds an index that behaves identically.
     */
    public byte[] snapshot() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 64, 32 * nodeCount + 1024));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(SNAPSHOT_MAGIC);
            out.writeInt(SNAPSHOT_VERSION);
            out.writeInt(blockSize);
            out.writeLong(nodeCount);
            ArrayDeque<RadixNode> queue = new ArrayDeque<>();
            root.forEachChild(queue::add);
            long written = 0;
            while (!queue.isEmpty()) {
                RadixNode n = queue.poll();
                out.writeBoolean(n.parent.isRoot());
                if (!n.parent.isRoot()) out.writeLong(n.parent.sequenceHash);
                out.writeLong(n.localHash);
                out.writeLong(n.sequenceHash);
                n.forEachChild(queue::add);
                written++;
            }
            if (written != nodeCount) throw new IllegalStateException("node count " + nodeCount + " but the tree has " + written);
            out.writeInt(workers.size());
            IOException[] failure = new IOException[1];
            workers.forEach((id, w) -> {
                try {
                    out.writeLong(id);
                    out.writeLong(w.lastEventId);
                    out.writeInt(w.blocks.size());
                    w.blocks.forEach((h, node) -> {
                        try {
                            out.writeLong(h);
                            out.writeLong(node.sequenceHash);
                        } catch (IOException e) {
                            failure[0] = e;
                        }
                    });
                } catch (IOException e) {
                    failure[0] = e;
                }
            });
            if (failure[0] != null) throw failure[0];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Rebuilds an index from {@link #snapshot()} bytes; a damaged or foreign snapshot throws IllegalArgumentException. */
    public static RadixIndex restore(byte[] snapshot) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            if (in.readInt() != SNAPSHOT_MAGIC) throw new IllegalArgumentException("not a router index snapshot (bad magic)");
            int version = in.readInt();
            if (version != SNAPSHOT_VERSION) {
                throw new IllegalArgumentException("router index snapshot version " + version + ", this build reads " + SNAPSHOT_VERSION);
            }
            RadixIndex index = new RadixIndex(in.readInt());
            long nodes = in.readLong();
            LongObjectMap<RadixNode> bySequence = new LongObjectMap<>((int) Math.min(nodes, 1 << 28));
            for (long i = 0; i < nodes; i++) {
                boolean underRoot = in.readBoolean();
                RadixNode parent = underRoot ? index.root : bySequence.get(in.readLong());
                if (parent == null) throw new IllegalArgumentException("snapshot node " + i + " names a parent not seen before it");
                long local = in.readLong();
                long seq = in.readLong();
                RadixNode node = new RadixNode(parent, local, seq);
                parent.addChild(node);
                bySequence.put(seq, node);
            }
            index.nodeCount = nodes;
            int workerCount = in.readInt();
            for (int i = 0; i < workerCount; i++) {
                WorkerBlocks w = index.addWorker(in.readLong());
                w.lastEventId = in.readLong();
                int blocks = in.readInt();
                for (int b = 0; b < blocks; b++) {
                    long engineHash = in.readLong();
                    RadixNode node = bySequence.get(in.readLong());
                    if (node == null) throw new IllegalArgumentException("snapshot worker " + w.workerId + " holds a block not in the tree");
                    w.blocks.put(engineHash, node);
                    node.addWorker(w.slot);
                }
            }
            if (in.available() > 0) throw new IllegalArgumentException("snapshot has " + in.available() + " trailing bytes");
            return index;
        } catch (IOException e) {
            throw new IllegalArgumentException("router index snapshot is truncated or damaged: " + e, e);
        }
    }

    /** One worker's part of the index. */
    private static final class WorkerBlocks {
        final long workerId;
        final int slot;
        final LongObjectMap<RadixNode> blocks = new LongObjectMap<>(64);
        long lastEventId = -1;

        WorkerBlocks(long workerId, int slot) {
            this.workerId = workerId;
            this.slot = slot;
        }
    }
}
