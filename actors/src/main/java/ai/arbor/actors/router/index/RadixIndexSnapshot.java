package ai.arbor.actors.router.index;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A {@link RadixIndex} as bytes: the tree breadth-first (each node after its parent, naming the parent by its sequence
 * hash, or as the root), then every worker's event-id position and its engine-hash → node map. Node ids are not
 * written, so the format does not depend on the in-memory layout.
 */
final class RadixIndexSnapshot {
    private static final int MAGIC = 0x41524249; // "ARBI"
    private static final int VERSION = 1;

    private RadixIndexSnapshot() {}

    static byte[] write(RadixIndex index) {
        RadixNodes nodes = index.nodes;
        long nodeCount = index.nodeCount;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 64, 32 * nodeCount + 1024));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(index.blockSize());
            out.writeLong(nodeCount);
            long written = 0;
            for (int id : breadthFirst(index)) {
                int parent = nodes.parent(id);
                out.writeBoolean(parent == RadixNodes.ROOT);
                if (parent != RadixNodes.ROOT) out.writeLong(nodes.sequenceHash(parent));
                out.writeLong(nodes.localHash(id));
                out.writeLong(nodes.sequenceHash(id));
                written++;
            }
            if (written != nodeCount) throw new IllegalStateException("node count " + nodeCount + " but the tree has " + written);
            out.writeInt(index.workerCount());
            IOException[] failure = new IOException[1];
            index.forEachWorker((id, w) -> {
                try {
                    out.writeLong(id);
                    out.writeLong(w.lastEventId);
                    out.writeInt(w.blocks.size());
                    w.blocks.forEach((h, owner, node) -> {
                        try {
                            out.writeLong(h);
                            out.writeLong(nodes.sequenceHash(node));
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

    /** Every node but the root, parents before children: children grouped by parent (counting sort), then a BFS. */
    private static int[] breadthFirst(RadixIndex index) {
        RadixNodes nodes = index.nodes;
        int limit = nodes.idLimit();
        int[] start = new int[limit + 1];
        index.children.forEach((local, parent, child) -> start[parent + 1]++);
        for (int i = 0; i < limit; i++) start[i + 1] += start[i];
        int[] byParent = new int[start[limit]];
        int[] fill = java.util.Arrays.copyOf(start, limit);
        index.children.forEach((local, parent, child) -> byParent[fill[parent]++] = child);
        int[] order = new int[byParent.length];
        int head = 0, tail = 0;
        for (int k = start[RadixNodes.ROOT]; k < start[RadixNodes.ROOT + 1]; k++) order[tail++] = byParent[k];
        while (head < tail) {
            int id = order[head++];
            for (int k = start[id]; k < start[id + 1]; k++) order[tail++] = byParent[k];
        }
        return java.util.Arrays.copyOf(order, tail);
    }

    static RadixIndex read(byte[] snapshot) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            if (in.readInt() != MAGIC) throw new IllegalArgumentException("not a router index snapshot (bad magic)");
            int version = in.readInt();
            if (version != VERSION) {
                throw new IllegalArgumentException("router index snapshot version " + version + ", this build reads " + VERSION);
            }
            int blockSize = in.readInt();
            long nodes = in.readLong();
            if (nodes < 0 || nodes > Integer.MAX_VALUE / 8) throw new IllegalArgumentException("snapshot claims " + nodes + " nodes");
            RadixIndex index = new RadixIndex(blockSize, (int) Math.min(nodes, snapshot.length / 17));
            NodeIdTable bySequence = new NodeIdTable((int) Math.min(nodes, snapshot.length / 17));
            for (long i = 0; i < nodes; i++) {
                int parent = RadixNodes.ROOT;
                if (!in.readBoolean()) {
                    parent = bySequence.get(in.readLong(), 0);
                    if (parent == 0) throw new IllegalArgumentException("snapshot node " + i + " names a parent not seen before it");
                }
                long local = in.readLong();
                long seq = in.readLong();
                if (index.children.get(local, parent) != 0) throw new IllegalArgumentException("snapshot node " + i + " is listed twice");
                int node = index.restoreChild(parent, local);
                if (index.nodes.sequenceHash(node) != seq) {
                    throw new IllegalArgumentException("snapshot node " + i + ": sequence hash does not follow from its parent's");
                }
                bySequence.put(seq, 0, node);
            }
            int workerCount = in.readInt();
            for (int i = 0; i < workerCount; i++) {
                RadixIndex.WorkerBlocks w = index.restoreWorker(in.readLong(), in.readLong());
                int blocks = in.readInt();
                for (int b = 0; b < blocks; b++) {
                    long engineHash = in.readLong();
                    int node = bySequence.get(in.readLong(), 0);
                    if (node == 0) throw new IllegalArgumentException("snapshot worker " + w.workerId + " holds a block not in the tree");
                    index.restoreBlock(w, engineHash, node);
                }
            }
            if (in.available() > 0) throw new IllegalArgumentException("snapshot has " + in.available() + " trailing bytes");
            return index;
        } catch (IOException e) {
            throw new IllegalArgumentException("router index snapshot is truncated or damaged: " + e, e);
        }
    }
}
