package ai.arbor.gpu.sample;

/**
 * Top-p (nucleus) selection without a full sort: a quickselect on probability mass. Each round partitions the
 * remaining candidates around a pivot weight and keeps only the side that holds the boundary, so it costs O(n)
 * expected instead of O(n log n) for a 150k vocabulary.
 */
final class Nucleus {
    private static final int SMALL = 32;

    private Nucleus() {}

    /**
     * Reorders {@code tok[0, n)} and their weights {@code w[0, n)} so that the first m of them are the fewest
     * heaviest candidates whose weights sum to at least {@code target}, and returns m (at least 1).
     */
    static int select(int[] tok, double[] w, int n, double target) {
        int lo = 0, hi = n;
        double need = target;
        while (true) {
            if (hi - lo <= SMALL) {
                sortDescending(tok, w, lo, hi);
                for (int i = lo; i < hi; i++) {
                    need -= w[i];
                    if (need <= 0) return i + 1;
                }
                return Math.max(hi, 1);
            }
            double pivot = median3(w[lo], w[(lo + hi) >>> 1], w[hi - 1]);
            // Dijkstra's three-way partition, heaviest first: [lo, a) > pivot, [a, b) == pivot, [b, hi) < pivot.
            int a = lo, i = lo, b = hi;
            while (i < b) {
                if (w[i] > pivot) swap(tok, w, a++, i++);
                else if (w[i] < pivot) swap(tok, w, i, --b);
                else i++;
            }
            double massGt = sum(w, lo, a);
            if (massGt >= need) {
                hi = a;
                continue;
            }
            need -= massGt;
            for (int j = a; j < b; j++) {
                need -= w[j];
                if (need <= 0) return j + 1;
            }
            lo = b;
            if (lo >= hi) return Math.max(hi, 1);
        }
    }

    private static double median3(double x, double y, double z) {
        return Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    }

    private static double sum(double[] w, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += w[i];
        return s;
    }

    private static void swap(int[] tok, double[] w, int i, int j) {
        int t = tok[i]; tok[i] = tok[j]; tok[j] = t;
        double x = w[i]; w[i] = w[j]; w[j] = x;
    }

    private static void sortDescending(int[] tok, double[] w, int from, int to) {
        for (int i = from + 1; i < to; i++) {
            int t = tok[i];
            double x = w[i];
            int j = i - 1;
            while (j >= from && w[j] < x) {
                tok[j + 1] = tok[j];
                w[j + 1] = w[j];
                j--;
            }
            tok[j + 1] = t;
            w[j + 1] = x;
        }
    }
}
