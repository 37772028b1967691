package ai.arbor.cluster.serve.overhead;

import java.util.Arrays;

/** Durations in nanoseconds, collected then summarised by percentile. Not thread-safe. */
final class Samples {
    private long[] values = new long[1024];
    private int size;

    void add(long nanos) {
        if (size == values.length) values = Arrays.copyOf(values, size * 2);
        values[size++] = nanos;
    }

    int size() { return size; }

    /** Adds these samples to {@code other}. */
    void addTo(Samples other) {
        for (int i = 0; i < size; i++) other.add(values[i]);
    }

    /** The nearest-rank percentile in milliseconds; NaN when empty. */
    double percentileMs(double p) {
        if (size == 0) return Double.NaN;
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        int i = (int) Math.min(size - 1, Math.ceil(p / 100 * size) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }
}
