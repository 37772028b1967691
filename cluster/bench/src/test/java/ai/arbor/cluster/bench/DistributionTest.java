package ai.arbor.cluster.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DistributionTest {
    @Test
    void percentilesInterpolateLikeNumpy() {
        // numpy.percentile([1..10], [50, 90, 99]) = 5.5, 9.1, 9.91
        double[] v = {7, 3, 10, 1, 5, 2, 9, 4, 8, 6};
        Distribution d = Distribution.of(v);
        assertEquals(10, d.count());
        assertEquals(5.5, d.mean(), 1e-12);
        assertEquals(5.5, d.p50(), 1e-12);
        assertEquals(9.1, d.p90(), 1e-12);
        assertEquals(9.91, d.p99(), 1e-12);
        assertEquals(1, d.min());
        assertEquals(10, d.max());
        assertEquals(Math.sqrt(8.25), d.std(), 1e-12);
    }

    @Test
    void singleValueAndEmpty() {
        Distribution one = Distribution.of(new double[]{42});
        assertEquals(42, one.p50());
        assertEquals(42, one.p99());
        assertEquals(0, one.std());
        assertTrue(Double.isNaN(Distribution.of(new double[0]).mean()));
    }

    @Test
    void doesNotReorderTheCallersArray() {
        double[] v = {3, 1, 2};
        Distribution.of(v);
        assertEquals(3, v[0]);
    }
}
