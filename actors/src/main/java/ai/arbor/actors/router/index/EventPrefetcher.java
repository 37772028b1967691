package ai.arbor.actors.router.index;

import ai.arbor.actors.kvevents.BlockEvent;

import java.util.Arrays;
import java.util.List;

/**
 * Warms the cache for a batch of one worker's events before {@link RadixIndex#apply} runs them one by one. At the
 * issue's scale the index is hundreds of megabytes and an event costs two or three cache misses (its worker-table
 * cell, its node, the edge cell a pruning or a new child edits); applied in turn, each miss waits for the one before.
 * Here they are read in loops of loads that do not depend on each other, so the CPU overlaps the misses of a whole
 * batch. Three passes, because each needs what the one before brought in: table cells, then the nodes they name, then
 * those nodes' edge cells.
 *
 * <p>Changes nothing but timing.
 */
final class EventPrefetcher {
    private final RadixIndex index;
    /** Well-formed, non-empty stored events of the last batch, in order. */
    private BlockEvent.Stored[] stores = new BlockEvent.Stored[16];
    private int storeCount;
    private long[] engineHashes = new long[64];
    private int keyCount;
    private int removedCount;
    private int[] nodeIds = new int[64];
    /** Keeps the loads alive; its value means nothing. */
    private long sink;

    EventPrefetcher(RadixIndex index) {
        this.index = index;
    }

    void prefetch(NodeIdTable blocks, List<BlockEvent> events) {
        collectStores(events);
        gatherEngineHashes(events);
        RadixNodes nodes = index.nodes;
        NodeIdTable children = index.children;
        // each pass is a tight loop over primitive arrays: the fewer instructions between two loads, the more loads
        // the CPU has in flight at once
        long[] keys = engineHashes;
        long s = 0;
        for (int i = 0; i < keyCount; i++) s += blocks.touch(keys[i], 0);
        // pass 2: nodes that removals will take a worker off (and maybe prune), and stores' parents and edge cells
        int n = 0;
        for (int i = 0; i < removedCount; i++) {
            int node = blocks.get(keys[i], 0);
            if (node != 0) nodeIds[n++] = node;
        }
        int removedNodes = n;
        for (int k = 0; k < storeCount; k++) {
            Long parentHash = stores[k].parentBlockHash();
            int parent = parentHash == null ? RadixNodes.ROOT : blocks.get(parentHash, 0);
            if (parent == 0) continue;
            s += children.touch(stores[k].localHashes()[0], parent);
            s += nodes.touchNextCreated(k);
            nodeIds[n++] = parent;
        }
        for (int i = 0; i < n; i++) s += nodes.touch(nodeIds[i]);
        // pass 3: the edge cells that pruning the removed nodes edits
        for (int i = 0; i < removedNodes; i++) {
            int node = nodeIds[i];
            s += children.touch(nodes.localHash(node), nodes.parent(node));
        }
        sink += s;
    }

    /** Engine hashes the batch looks up in the worker's table: removals' first (the first {@code removedCount}). */
    private void gatherEngineHashes(List<BlockEvent> events) {
        int n = 0;
        for (BlockEvent e : events) {
            if (e instanceof BlockEvent.Removed r) n = append(n, r.blockHashes());
        }
        removedCount = n;
        for (BlockEvent e : events) {
            if (e instanceof BlockEvent.Stored st) {
                if (st.parentBlockHash() != null) {
                    if (n == engineHashes.length) engineHashes = Arrays.copyOf(engineHashes, n * 2);
                    engineHashes[n++] = st.parentBlockHash();
                }
                n = append(n, st.blockHashes());
            }
        }
        keyCount = n;
        if (nodeIds.length < n + storeCount) nodeIds = new int[Math.max(nodeIds.length * 2, n + storeCount)];
    }

    private int append(int n, long[] hashes) {
        if (n + hashes.length > engineHashes.length) engineHashes = Arrays.copyOf(engineHashes, Math.max(engineHashes.length * 2, n + hashes.length));
        for (long h : hashes) engineHashes[n++] = h; // most events carry one hash: a loop beats arraycopy's call
        return n;
    }

    private void collectStores(List<BlockEvent> events) {
        storeCount = 0;
        for (BlockEvent e : events) {
            if (!(e instanceof BlockEvent.Stored st) || !index.wellFormed(st) || st.blockHashes().length == 0) continue;
            if (storeCount == stores.length) stores = Arrays.copyOf(stores, storeCount * 2);
            stores[storeCount++] = st;
        }
    }
}
