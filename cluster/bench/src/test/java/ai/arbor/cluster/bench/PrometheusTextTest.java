package ai.arbor.cluster.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrometheusTextTest {
    private static final String BEFORE = """
            # HELP arbor_requests_total Requests
            # TYPE arbor_requests_total counter
            arbor_requests_total{endpoint="chat",status="200"} 3.0
            # TYPE arbor_running gauge
            arbor_running 2
            # TYPE arbor_ttft_seconds histogram
            arbor_ttft_seconds_bucket{le="0.1"} 1
            arbor_ttft_seconds_bucket{le="+Inf"} 3
            arbor_ttft_seconds_count 3
            arbor_ttft_seconds_sum 0.75
            """;
    private static final String AFTER = """
            # TYPE arbor_requests_total counter
            arbor_requests_total{endpoint="chat",status="200"} 23.0
            arbor_requests_total{endpoint="chat",status="400"} 1 1700000000000
            arbor_requests_total{note="a } in \\"quotes\\"",status="x"} 4
            # TYPE arbor_running gauge
            arbor_running 0
            # TYPE arbor_ttft_seconds histogram
            arbor_ttft_seconds_bucket{le="0.1"} 5
            arbor_ttft_seconds_bucket{le="+Inf"} 23
            arbor_ttft_seconds_count 23
            arbor_ttft_seconds_sum 4.75
            """;

    @Test
    void countersAndHistogramTotalsAreSubtracted() {
        Map<String, Double> d = PrometheusText.parse(AFTER).counterDeltas(PrometheusText.parse(BEFORE));
        assertEquals(20.0, d.get("arbor_requests_total{endpoint=\"chat\",status=\"200\"}"));
        assertEquals(1.0, d.get("arbor_requests_total{endpoint=\"chat\",status=\"400\"}"), "new series count from 0");
        assertEquals(4.0, d.get("arbor_requests_total{note=\"a } in \\\"quotes\\\"\",status=\"x\"}"));
        assertEquals(20.0, d.get("arbor_ttft_seconds_count"));
        assertEquals(4.0, d.get("arbor_ttft_seconds_sum"));
        assertFalse(d.containsKey("arbor_running"), "gauges are not deltas");
        assertFalse(d.keySet().stream().anyMatch(k -> k.contains("_bucket")));
    }

    @Test
    void totalsSumOverLabels() {
        PrometheusText t = PrometheusText.parse(AFTER);
        assertEquals(28.0, t.total("arbor_requests_total"));
        assertTrue(Double.isInfinite(PrometheusText.parse("x{le=\"+Inf\"} +Inf").total("x")));
    }
}
