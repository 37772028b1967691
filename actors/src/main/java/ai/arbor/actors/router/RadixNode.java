package ai.arbor.actors.router;

/**
 * One block of some prefix: reached from its parent by the block's local hash, named by its sequence hash, holding the
 * set of workers (as a bitset of dense worker slots) that have this block cached. Most nodes have at most one child,
 * so a single child is kept inline and a map is made only for branching nodes.
 */
final class RadixNode {
    private static final long[] NO_WORKERS = new long[0];

    final long localHash;
    final long sequenceHash;
    final RadixNode parent;

    private long onlyChildKey;
    private RadixNode onlyChild;
    private LongObjectMap<RadixNode> children;

    /** Workers in slots 0..63 inline (the common case: one word, no extra object), the rest in {@code moreWorkers}. */
    private long workers0;
    private long[] moreWorkers = NO_WORKERS;

    RadixNode(RadixNode parent, long localHash, long sequenceHash) {
        this.parent = parent;
        this.localHash = localHash;
        this.sequenceHash = sequenceHash;
    }

    RadixNode child(long localHash) {
        if (children != null) return children.get(localHash);
        return onlyChild != null && onlyChildKey == localHash ? onlyChild : null;
    }

    /** Reads the cell of the child table where {@code localHash} lives (see {@link LongObjectMap#touch}). */
    long touchChild(long localHash) {
        return children != null ? children.touch(localHash) : onlyChildKey;
    }

    /** The child for {@code localHash}, created with the chained sequence hash when missing. */
    RadixNode childOrCreate(long localHash) {
        RadixNode c = child(localHash);
        if (c != null) return c;
        long seq = isRoot() ? localHash : TokenBlockHasher.chain(sequenceHash, localHash);
        c = new RadixNode(this, localHash, seq);
        addChild(c);
        return c;
    }

    /** The root stands for the empty prefix; its children are first blocks, whose sequence hash is their local hash. */
    static RadixNode root() {
        return new RadixNode(null, 0, 0);
    }

    boolean isRoot() { return parent == null; }

    void addChild(RadixNode c) {
        if (children != null) {
            children.put(c.localHash, c);
        } else if (onlyChild == null) {
            onlyChild = c;
            onlyChildKey = c.localHash;
        } else {
            children = new LongObjectMap<>(4);
            children.put(onlyChildKey, onlyChild);
            children.put(c.localHash, c);
            onlyChild = null;
        }
    }

    void removeChild(long localHash) {
        if (children != null) {
            children.remove(localHash);
        } else if (onlyChild != null && onlyChildKey == localHash) {
            onlyChild = null;
        }
    }

    boolean hasChildren() {
        return children != null ? children.size() > 0 : onlyChild != null;
    }

    void forEachChild(java.util.function.Consumer<RadixNode> action) {
        if (children != null) children.forEach((k, v) -> action.accept(v));
        else if (onlyChild != null) action.accept(onlyChild);
    }

    /** Worker-set word {@code i} (slots 64i .. 64i+63). */
    long word(int i) {
        if (i == 0) return workers0;
        return i <= moreWorkers.length ? moreWorkers[i - 1] : 0;
    }

    boolean hasWorker(int slot) {
        return (word(slot >>> 6) & (1L << slot)) != 0;
    }

    /** Returns true if the worker was not there yet. */
    boolean addWorker(int slot) {
        int w = slot >>> 6;
        long bit = 1L << slot;
        if (w == 0) {
            boolean added = (workers0 & bit) == 0;
            workers0 |= bit;
            return added;
        }
        if (w > moreWorkers.length) moreWorkers = java.util.Arrays.copyOf(moreWorkers, w);
        boolean added = (moreWorkers[w - 1] & bit) == 0;
        moreWorkers[w - 1] |= bit;
        return added;
    }

    /** Returns true if the worker was there. */
    boolean removeWorker(int slot) {
        int w = slot >>> 6;
        long bit = 1L << slot;
        if (w == 0) {
            boolean had = (workers0 & bit) != 0;
            workers0 &= ~bit;
            return had;
        }
        if (w > moreWorkers.length) return false;
        boolean had = (moreWorkers[w - 1] & bit) != 0;
        moreWorkers[w - 1] &= ~bit;
        return had;
    }

    boolean hasNoWorkers() {
        if (workers0 != 0) return false;
        for (long word : moreWorkers) if (word != 0) return false;
        return true;
    }
}
