package ai.arbor.gpu.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * Measures the memory read bandwidth a decode step can get: every thread streams its share of a large array (far
 * bigger than the caches) through vector loads, as the matmul kernels stream weights.
 */
public final class MemoryBandwidth {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private MemoryBandwidth() {}

    /** Best of {@code repeats} passes, in bytes per second. */
    public static double measure(int threads, long bytes, int repeats) throws InterruptedException {
        int n = (int) Math.min(Integer.MAX_VALUE - 64, bytes / Float.BYTES);
        n -= n % (F.length() * threads);
        float[] data = new float[n];
        for (int i = 0; i < n; i += 1024) data[i] = i; // touch every page so the pass reads real memory
        double best = 0;
        for (int r = 0; r < repeats; r++) {
            double[] sink = new double[threads];
            int per = n / threads;
            List<Thread> ts = new ArrayList<>();
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int from = t * per;
                int to = from + per;
                int slot = t;
                Thread th = new Thread(() -> sink[slot] = sum(data, from, to));
                ts.add(th);
                th.start();
            }
            for (Thread th : ts) th.join();
            long nanos = System.nanoTime() - start;
            double s = 0;
            for (double d : sink) s += d;
            if (Double.isNaN(s)) System.out.print(""); // keep the sums alive
            best = Math.max(best, (double) n * Float.BYTES / (nanos / 1e9));
        }
        return best;
    }

    private static double sum(float[] a, int from, int to) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int step = 2 * F.length();
        int i = from;
        for (; i + step <= to; i += step) {
            acc0 = acc0.add(FloatVector.fromArray(F, a, i));
            acc1 = acc1.add(FloatVector.fromArray(F, a, i + F.length()));
        }
        double s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += a[i];
        return s;
    }
}
