package ai.arbor.actors.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import org.junit.jupiter.api.Test;

class RequestLogMillisTest {
    @Test
    void formatsLikePercentPointThreeF() {
        for (long nanos : new long[] {0, 1, 499, 500, 999_499, 999_500, 1_000_000, 35_525_123, 4_112_000,
                123_456_789_012L, 7_000_499, 7_000_500}) {
            assertEquals(String.format(Locale.ROOT, "%.3f", nanos / 1e6), RequestLog.millis(nanos), "nanos " + nanos);
        }
        assertEquals("-1.000", RequestLog.millis(-1));
    }
}
