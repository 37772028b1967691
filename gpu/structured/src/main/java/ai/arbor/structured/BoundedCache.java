package ai.arbor.structured;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** A least-recently-used map of bounded size, safe for several threads. */
final class BoundedCache<K, V> {
    private final Map<K, V> map;

    BoundedCache(int capacity) {
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) { return size() > capacity; }
        };
    }

    /**
     * The cached value, or a new one from {@code compute}. Compiling outside the lock lets two threads race to build
     * the same entry (both results are equal); holding it would stall every request behind one slow schema.
     */
    V get(K key, Function<K, V> compute) {
        synchronized (map) {
            V v = map.get(key);
            if (v != null) return v;
        }
        V v = compute.apply(key);
        synchronized (map) {
            V raced = map.putIfAbsent(key, v);
            return raced != null ? raced : v;
        }
    }

    int size() {
        synchronized (map) {
            return map.size();
        }
    }
}
