package ai.arbor.cluster.bench;

import java.util.SplittableRandom;

/**
 * When each request is sent, as offsets from the start. A finite rate gives a Poisson process: independent
 * exponential gaps with mean 1/rate, as vLLM's bench does; an infinite rate sends everything at once (a fixed
 * concurrency then paces the run).
 */
public final class ArrivalSchedule {
    private ArrivalSchedule() { }

    public static long[] offsetsNanos(int n, double requestsPerSecond, long seed) {
        if (!(requestsPerSecond > 0)) {
            throw new BenchException("--request-rate must be positive, not " + requestsPerSecond);
        }
        long[] offsets = new long[n];
        if (Double.isInfinite(requestsPerSecond)) {
            return offsets;
        }
        SplittableRandom random = new SplittableRandom(seed);
        double t = 0;
        for (int i = 0; i < n; i++) {
            // Inverse-CDF sampling; 1 - u keeps the argument of log in (0, 1].
            t += -Math.log(1.0 - random.nextDouble()) / requestsPerSecond;
            offsets[i] = (long) (t * 1e9);
        }
        return offsets;
    }
}
