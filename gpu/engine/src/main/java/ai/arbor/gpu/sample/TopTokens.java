package ai.arbor.gpu.sample;

/**
 * The k largest values of a vocabulary-sized array without sorting it: one pass through a bounded min-heap, so
 * O(V log k) and in practice O(V) since most values never beat the heap's minimum.
 */
final class TopTokens {
    private TopTokens() {}

    /** Indices of the {@code k} largest {@code values}, largest first; ties keep the lower index first. */
    static int[] largest(float[] values, int k) {
        int n = values.length;
        k = Math.min(k, n);
        if (k <= 0) return new int[0];
        int[] heap = new int[k]; // min-heap by (value, then higher index counts as smaller)
        int size = 0;
        for (int i = 0; i < n; i++) {
            float v = values[i];
            if (size < k) {
                heap[size] = i;
                siftUp(heap, size++, values);
            } else if (v > values[heap[0]]) {
                heap[0] = i;
                siftDown(heap, size, values);
            }
        }
        int[] out = new int[size];
        for (int j = size - 1; j >= 0; j--) {
            out[j] = heap[0];
            heap[0] = heap[j];
            siftDown(heap, j, values);
        }
        return out;
    }

    private static boolean less(int a, int b, float[] v) {
        return v[a] < v[b] || (v[a] == v[b] && a > b);
    }

    private static void siftUp(int[] h, int i, float[] v) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!less(h[i], h[parent], v)) break;
            int t = h[i]; h[i] = h[parent]; h[parent] = t;
            i = parent;
        }
    }

    private static void siftDown(int[] h, int size, float[] v) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < size && less(h[l], h[m], v)) m = l;
            if (r < size && less(h[r], h[m], v)) m = r;
            if (m == i) return;
            int t = h[i]; h[i] = h[m]; h[m] = t;
            i = m;
        }
    }
}
