package ai.arbor.actors.router.index;

import java.util.Arrays;

/**
 * An open-addressing map from primitive {@code long} keys to objects: the index's worker id → worker part, looked up
 * on every event without boxing the id. (The big maps, from hashes to nodes, are {@link NodeIdTable}s.)
 * Not thread-safe. Every key is allowed (a separate slot holds key 0, which marks empty cells).
 */
final class LongObjectMap<V> {
    private static final float LOAD = 0.6f;

    private long[] keys;
    private Object[] values;
    private int size;
    private int mask;
    private int shift;
    private boolean hasZero;
    private Object zeroValue;

    LongObjectMap() { this(4); }

    LongObjectMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, (int) (expected / LOAD) + 1) - 1) << 1;
        allocate(cap);
    }

    private void allocate(int cap) {
        keys = new long[cap];
        values = new Object[cap];
        mask = cap - 1;
        shift = 64 - Integer.numberOfTrailingZeros(cap);
    }

    private int slot(long key) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> shift);
    }

    int size() { return size; }

    @SuppressWarnings("unchecked")
    V get(long key) {
        if (key == 0) return hasZero ? (V) zeroValue : null;
        long[] k = keys;
        int m = mask;
        for (int i = slot(key); ; i = (i + 1) & m) {
            long cur = k[i];
            if (cur == key) return (V) values[i];
            if (cur == 0) return null;
        }
    }

    /** Returns the previous value, or null. */
    @SuppressWarnings("unchecked")
    V put(long key, V value) {
        if (value == null) throw new IllegalArgumentException("null values are not stored");
        if (key == 0) {
            V old = (V) zeroValue;
            if (!hasZero) { hasZero = true; size++; }
            zeroValue = value;
            return old;
        }
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long cur = keys[i];
            if (cur == key) {
                V old = (V) values[i];
                values[i] = value;
                return old;
            }
            if (cur == 0) {
                keys[i] = key;
                values[i] = value;
                if (++size > (mask + 1) * LOAD) grow();
                return null;
            }
        }
    }

    @SuppressWarnings("unchecked")
    V remove(long key) {
        if (key == 0) {
            if (!hasZero) return null;
            V old = (V) zeroValue;
            hasZero = false;
            zeroValue = null;
            size--;
            return old;
        }
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long cur = keys[i];
            if (cur == 0) return null;
            if (cur == key) {
                V old = (V) values[i];
                shiftBack(i);
                size--;
                return old;
            }
        }
    }

    /** Backward-shift deletion keeps probe chains intact without tombstones. */
    private void shiftBack(int hole) {
        int i = hole;
        while (true) {
            i = (i + 1) & mask;
            long cur = keys[i];
            if (cur == 0) break;
            int home = slot(cur);
            // move cur into the hole if its home is not cyclically within (hole, i]
            boolean between = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
            if (!between) {
                keys[hole] = cur;
                values[hole] = values[i];
                hole = i;
            }
        }
        keys[hole] = 0;
        values[hole] = null;
    }

    private void grow() {
        long[] oldKeys = keys;
        Object[] oldValues = values;
        allocate(keys.length * 2);
        for (int i = 0; i < oldKeys.length; i++) {
            long k = oldKeys[i];
            if (k == 0) continue;
            int j = slot(k);
            while (keys[j] != 0) j = (j + 1) & mask;
            keys[j] = k;
            values[j] = oldValues[i];
        }
    }

    void clear() {
        Arrays.fill(keys, 0);
        Arrays.fill(values, null);
        hasZero = false;
        zeroValue = null;
        size = 0;
    }

    interface Visitor<V> { void visit(long key, V value); }

    /** Visits every entry; the visitor must not modify this map. */
    @SuppressWarnings("unchecked")
    void forEach(Visitor<V> visitor) {
        if (hasZero) visitor.visit(0, (V) zeroValue);
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0) visitor.visit(keys[i], (V) values[i]);
        }
    }
}
