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

    long[] workers = NO_WORKERS;

    RadixNode(RadixNode parent, long localHash, long sequenceHash) {
        this.parent = parent;
        this.localHash = localHash;
        this.sequenceHash = sequenceHash;
    }

    RadixNode child(long localHash) {
        if (children != null) return children.get(localHash);
        return onlyChild != null && onlyChildKey == localHash ? onlyChild : null;
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

    boolean hasWorker(int slot) {
        int w = slot >>> 6;
        return w < workers.length && (workers[w] & (1L << slot)) != 0;
    }

    /** Returns true if the worker was not there yet. */
    boolean addWorker(int slot) {
        int w = slot >>> 6;
        if (w >= workers.length) workers = java.util.Arrays.copyOf(workers, w + 1);
        long bit = 1L << slot;
        boolean added = (workers[w] & bit) == 0;
        workers[w] |= bit;
        return added;
    }

    /** Returns true if the worker was there. */
    boolean removeWorker(int slot) {
        int w = slot >>> 6;
        if (w >= workers.length) return false;
        long bit = 1L << slot;
        boolean had = (workers[w] & bit) != 0;
        workers[w] &= ~bit;
        return had;
    }

    boolean hasNoWorkers() {
        for (long word : workers) if (word != 0) return false;
        return true;
    }
}
