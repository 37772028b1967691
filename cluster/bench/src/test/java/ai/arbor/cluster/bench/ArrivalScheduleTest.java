package ai.arbor.cluster.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArrivalScheduleTest {
    @Test
    void poissonGapsAreExponentialWithTheRequestedRate() {
        int n = 50_000;
        double rate = 8;
        long[] t = ArrivalSchedule.offsetsNanos(n, rate, 7);
        double sum = 0, sq = 0;
        int countsInFirstSecondWindows = 0;
        long prev = 0;
        for (long x : t) {
            assertTrue(x >= prev, "arrivals are in order");
            double gap = (x - prev) / 1e9;
            sum += gap;
            sq += gap * gap;
            prev = x;
        }
        double mean = sum / n;
        double var = sq / n - mean * mean;
        // Exponential gaps: mean 1/rate and standard deviation equal to the mean (coefficient of variation 1).
        assertEquals(1 / rate, mean, 0.02 / rate);
        assertEquals(1.0, Math.sqrt(var) / mean, 0.03);
        // Poisson counts: arrivals per second average `rate` with variance `rate`.
        int seconds = (int) (t[n - 1] / 1_000_000_000L);
        int[] perSecond = new int[seconds];
        for (long x : t) {
            int s = (int) (x / 1_000_000_000L);
            if (s < seconds) {
                perSecond[s]++;
                countsInFirstSecondWindows++;
            }
        }
        double cm = (double) countsInFirstSecondWindows / seconds, cv = 0;
        for (int c : perSecond) {
            cv += (c - cm) * (c - cm);
        }
        cv /= seconds;
        assertEquals(rate, cm, 0.2);
        assertEquals(rate, cv, 0.8);
    }

    @Test
    void sameSeedSameScheduleOtherSeedOther() {
        assertArrayEquals(ArrivalSchedule.offsetsNanos(100, 5, 1), ArrivalSchedule.offsetsNanos(100, 5, 1));
        assertNotEquals(ArrivalSchedule.offsetsNanos(100, 5, 1)[99], ArrivalSchedule.offsetsNanos(100, 5, 2)[99]);
    }

    @Test
    void infiniteRateSendsEverythingAtOnce() {
        assertArrayEquals(new long[5], ArrivalSchedule.offsetsNanos(5, Double.POSITIVE_INFINITY, 0));
    }

    @Test
    void nonPositiveRateIsRejected() {
        assertThrows(BenchException.class, () -> ArrivalSchedule.offsetsNanos(5, 0, 0));
        assertThrows(BenchException.class, () -> ArrivalSchedule.offsetsNanos(5, Double.NaN, 0));
    }
}
