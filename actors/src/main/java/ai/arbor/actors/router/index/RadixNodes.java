package ai.arbor.actors.router.index;

import java.util.Arrays;

/**
 * The radix tree's nodes as int ids into one {@code long[]}, six longs a node: local hash, sequence hash, parent id
 * and pin count, the worker-set bits of slots 0..63, and one child inline. A node is then one or two cache lines
 * instead of an object plus its child map, and the tree holds no references for the garbage collector to trace. Slots 64 and up
 * live in a second array, sized only once there are that many workers.
 *
 * <p>A node is <em>pinned</em> once by each child and once by each worker-table entry that names it; at zero pins it
 * is pruned. Pinning by entries rather than worker bits means an entry never names a freed (and maybe reused) id.
 *
 * <p>Ids of pruned nodes are reused last-freed-first: the node a removal just pruned is in cache for the next store.
 */
final class RadixNodes {
    /** The root, the empty prefix: never pruned, never a child. */
    static final int ROOT = 0;

    private static final int STRIDE = 6;
    private static final int LOCAL = 0;
    private static final int SEQUENCE = 1;
    /** parent id in the high int, pins in the low int; -1 marks a free id. */
    private static final int LINK = 2;
    private static final int WORKERS = 3;
    /** One child inline (local hash, id; id 0 = none), so a walk down a chain needs no edge-table probe. */
    private static final int FIRST_CHILD_LOCAL = 4;
    private static final int FIRST_CHILD = 5;
    private static final long FREE = -1;

    private long[] records;
    /** Worker-set words 1.. of every node, {@code extraWords} per node. */
    private long[] moreWorkers = new long[0];
    private int extraWords;
    private int[] freeIds = new int[64];
    private int freeCount;
    private int nextId = 1;

    RadixNodes(int expected) {
        records = new long[Math.max(16, expected) * STRIDE];
    }

    /** One past the highest id ever handed out (ids below it are live or free). */
    int idLimit() { return nextId; }

    boolean isLive(int id) { return id == ROOT || (id < nextId && records[id * STRIDE + LINK] != FREE); }

    long localHash(int id) { return records[id * STRIDE + LOCAL]; }

    long sequenceHash(int id) { return records[id * STRIDE + SEQUENCE]; }

    int parent(int id) { return (int) (records[id * STRIDE + LINK] >> 32); }

    int pins(int id) { return (int) records[id * STRIDE + LINK]; }

    void pin(int id) { records[id * STRIDE + LINK]++; }

    /** Returns the pins left. */
    int unpin(int id) { return (int) --records[id * STRIDE + LINK]; }

    /** A new unpinned node with no workers. */
    int create(int parent, long localHash, long sequenceHash) {
        int id;
        if (freeCount > 0) {
            id = freeIds[--freeCount];
        } else {
            id = nextId++;
            if ((long) id * STRIDE >= records.length) grow();
        }
        int at = id * STRIDE;
        records[at + LOCAL] = localHash;
        records[at + SEQUENCE] = sequenceHash;
        records[at + LINK] = (long) parent << 32;
        records[at + WORKERS] = 0;
        records[at + FIRST_CHILD] = 0;
        if (extraWords > 0) Arrays.fill(moreWorkers, id * extraWords, (id + 1) * extraWords, 0);
        return id;
    }

    void release(int id) {
        records[id * STRIDE + LINK] = FREE;
        if (freeCount == freeIds.length) freeIds = Arrays.copyOf(freeIds, freeCount * 2);
        freeIds[freeCount++] = id;
    }

    private void grow() {
        records = Arrays.copyOf(records, records.length * 2);
        if (extraWords > 0) moreWorkers = Arrays.copyOf(moreWorkers, records.length / STRIDE * extraWords);
    }

    /** The child of {@code id} reached by {@code localHash} if it is the one kept inline, else 0 (ask the edge table). */
    int inlineChild(int id, long localHash) {
        int at = id * STRIDE;
        return records[at + FIRST_CHILD_LOCAL] == localHash ? (int) records[at + FIRST_CHILD] : 0;
    }

    /** A new child of {@code parent}: kept inline if the parent has none there. */
    void noteChild(int parent, long localHash, int child) {
        int at = parent * STRIDE;
        if (records[at + FIRST_CHILD] == 0) {
            records[at + FIRST_CHILD_LOCAL] = localHash;
            records[at + FIRST_CHILD] = child;
        }
    }

    /** {@code child} of {@code parent} is pruned. */
    void forgetChild(int parent, int child) {
        int at = parent * STRIDE;
        if (records[at + FIRST_CHILD] == child) records[at + FIRST_CHILD] = 0;
    }

    /** Reads node {@code id}'s record so it is in cache (see {@link NodeIdTable#touch}). */
    long touch(int id) {
        return records[id * STRIDE + LINK];
    }

    /** Reads the record the {@code k}-th next {@link #create} will write (0 = the next one). */
    long touchNextCreated(int k) {
        int id = k < freeCount ? freeIds[freeCount - 1 - k] : nextId + k - freeCount;
        return (long) id * STRIDE + LINK < records.length ? records[id * STRIDE + LINK] : 0;
    }

    /** Makes room for worker slots {@code 0 .. slots-1}. */
    void ensureSlots(int slots) {
        int words = (slots + 63) >>> 6;
        if (words - 1 <= extraWords) return;
        int newExtra = words - 1;
        long[] more = new long[records.length / STRIDE * newExtra];
        for (int id = 0; id < nextId; id++) {
            for (int w = 0; w < extraWords; w++) more[id * newExtra + w] = moreWorkers[id * extraWords + w];
        }
        moreWorkers = more;
        extraWords = newExtra;
    }

    /** Worker-set word {@code i} (slots 64i .. 64i+63) of node {@code id}. */
    long word(int id, int i) {
        if (i == 0) return records[id * STRIDE + WORKERS];
        return i <= extraWords ? moreWorkers[id * extraWords + i - 1] : 0;
    }

    boolean hasWorker(int id, int slot) {
        return (word(id, slot >>> 6) & (1L << slot)) != 0;
    }

    /** Needs {@link #ensureSlots} to cover {@code slot}. */
    void addWorker(int id, int slot) {
        int w = slot >>> 6;
        if (w == 0) records[id * STRIDE + WORKERS] |= 1L << slot;
        else moreWorkers[id * extraWords + w - 1] |= 1L << slot;
    }

    void removeWorker(int id, int slot) {
        int w = slot >>> 6;
        if (w == 0) records[id * STRIDE + WORKERS] &= ~(1L << slot);
        else if (w <= extraWords) moreWorkers[id * extraWords + w - 1] &= ~(1L << slot);
    }
}
