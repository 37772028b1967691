package ai.arbor.actors.router.index;

import java.util.Arrays;

/**
 * An open-addressing map from a key pair ({@code long key}, {@code int owner}) to a positive int id. The index has one
 * for all tree edges ((local hash, parent node) → child node) and one per worker (engine hash, owner 0 → node).
 *
 * <p>Key and value sit side by side in one {@code long[]} ({@code [key, owner << 32 | id]}), so a probe reads one
 * cache line where separate key and value arrays would miss twice; the tables are hundreds of megabytes and nearly
 * every event probes them cold. Id 0 marks an empty cell, so every key is allowed and no side slot is needed.
 * Removal shifts later cells of the probe chain back (no tombstones, so churn never lengthens probes). Not thread-safe.
 */
final class NodeIdTable {
    private static final float LOAD = 0.6f;
    private static final long OWNER_MIX = 0xC2B2AE3D27D4EB4FL;
    private static final long SPREAD = 0x9E3779B97F4A7C15L;

    private long[] cells;
    private int size;
    private int mask;
    private int shift;

    NodeIdTable() { this(16); }

    NodeIdTable(int expected) {
        allocate(Integer.highestOneBit(Math.max(16, (int) (expected / LOAD) + 1) - 1) << 1);
    }

    private void allocate(int capacity) {
        cells = new long[capacity << 1];
        mask = capacity - 1;
        shift = 64 - Integer.numberOfTrailingZeros(capacity);
    }

    private int home(long key, int owner) {
        return (int) (((key + owner * OWNER_MIX) * SPREAD) >>> shift);
    }

    private static long value(int owner, int id) {
        return (long) owner << 32 | (id & 0xFFFFFFFFL);
    }

    int size() { return size; }

    /** The id stored for (key, owner), 0 if none. */
    int get(long key, int owner) {
        long[] c = cells;
        int m = mask;
        for (int i = home(key, owner); ; i = (i + 1) & m) {
            long v = c[(i << 1) + 1];
            if (v == 0) return 0;
            if (c[i << 1] == key && (int) (v >>> 32) == owner) return (int) v;
        }
    }

    /**
     * Reads the cell where (key, owner) lives or would go, so that a later call finds it in cache; returns a value
     * derived from it that the caller must keep (or the JIT drops the load). Touching many keys in a row lets the CPU
     * overlap their cache misses instead of waiting for each in turn.
     */
    long touch(long key, int owner) {
        int i = home(key, owner) << 1;
        return cells[i] + cells[i + 1];
    }

    /** Maps (key, owner) to {@code id} (positive); returns the previous id, 0 if none. */
    int put(long key, int owner, int id) {
        if (id <= 0) throw new IllegalArgumentException("ids are positive, got " + id);
        long[] c = cells;
        for (int i = home(key, owner); ; i = (i + 1) & mask) {
            int at = i << 1;
            long v = c[at + 1];
            if (v == 0) {
                c[at] = key;
                c[at + 1] = value(owner, id);
                if (++size > (mask + 1) * LOAD) grow();
                return 0;
            }
            if (c[at] == key && (int) (v >>> 32) == owner) {
                c[at + 1] = value(owner, id);
                return (int) v;
            }
        }
    }

    /** Removes (key, owner); returns its id, 0 if it was absent. */
    int remove(long key, int owner) {
        long[] c = cells;
        for (int i = home(key, owner); ; i = (i + 1) & mask) {
            long v = c[(i << 1) + 1];
            if (v == 0) return 0;
            if (c[i << 1] == key && (int) (v >>> 32) == owner) {
                shiftBack(i);
                size--;
                return (int) v;
            }
        }
    }

    /** Closes the hole at {@code hole}: later cells of its probe chain whose home is not after the hole move back. */
    private void shiftBack(int hole) {
        long[] c = cells;
        int i = hole;
        while (true) {
            i = (i + 1) & mask;
            long v = c[(i << 1) + 1];
            if (v == 0) break;
            long key = c[i << 1];
            int home = home(key, (int) (v >>> 32));
            // the cell may move into the hole unless its home is cyclically within (hole, i]
            boolean between = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
            if (!between) {
                c[hole << 1] = key;
                c[(hole << 1) + 1] = v;
                hole = i;
            }
        }
        c[hole << 1] = 0;
        c[(hole << 1) + 1] = 0;
    }

    private void grow() {
        long[] old = cells;
        allocate((mask + 1) << 1);
        long[] c = cells;
        for (int at = 0; at < old.length; at += 2) {
            long v = old[at + 1];
            if (v == 0) continue;
            int i = home(old[at], (int) (v >>> 32));
            while (c[(i << 1) + 1] != 0) i = (i + 1) & mask;
            c[i << 1] = old[at];
            c[(i << 1) + 1] = v;
        }
    }

    void clear() {
        Arrays.fill(cells, 0);
        size = 0;
    }

    interface Visitor { void visit(long key, int owner, int id); }

    /** Visits every entry; the visitor must not modify this table. */
    void forEach(Visitor visitor) {
        long[] c = cells;
        for (int at = 0; at < c.length; at += 2) {
            long v = c[at + 1];
            if (v != 0) visitor.visit(c[at], (int) (v >>> 32), (int) v);
        }
    }
}
