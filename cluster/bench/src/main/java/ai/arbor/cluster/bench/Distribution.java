package ai.arbor.cluster.bench;

import java.util.Arrays;

/**
 * Summary of a sample (in milliseconds for latencies). Percentiles interpolate linearly between order statistics,
 * numpy's default, so figures line up with vLLM's bench for the same data.
 */
public record Distribution(int count, double mean, double std, double min, double p50, double p90, double p99,
                           double max) {

    public static final Distribution EMPTY = new Distribution(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, Double.NaN, Double.NaN);

    public static Distribution of(double[] values) {
        if (values.length == 0) {
            return EMPTY;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        double mean = sum / sorted.length;
        double sq = 0;
        for (double v : sorted) {
            sq += (v - mean) * (v - mean);
        }
        return new Distribution(sorted.length, mean, Math.sqrt(sq / sorted.length), sorted[0],
                percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), sorted[sorted.length - 1]);
    }

    /** The {@code p}-th percentile (0..100) of an ascending array. */
    public static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double rank = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }
}
