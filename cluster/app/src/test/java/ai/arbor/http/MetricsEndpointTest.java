package ai.arbor.http;

import ai.arbor.cluster.serve.SingleNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.metrics.ScrapeText;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** A real server: requests through the OpenAI API move the frontend and worker metrics that GET /metrics shows. */
class MetricsEndpointTest {
    private static final String M = "model=\"" + SyntheticServers.MODEL + "\"";
    private static final String W = "worker=\"worker-0\"";

    @Test
    void requestsMoveFrontendAndWorkerMetrics() throws Exception {
        // 5 ms steps: tokens come apart, so the stream does not merge them all into one chunk (which has no gaps to
        // count as inter-token latency)
        try (SingleNode node = SyntheticServers.start(Map.of(), 5_000_000)) {
            SyntheticServers.awaitHealthy(node);
            String before = nextTick(node);
            double chatOk = value(before, "arbor_frontend_requests_total", M, "endpoint=\"chat_completions\"",
                    "request_type=\"unary\"", "status=\"success\"");
            double streamOk = value(before, "arbor_frontend_requests_total", M, "endpoint=\"completions\"",
                    "request_type=\"stream\"", "status=\"success\"");
            double ttft = value(before, "arbor_frontend_time_to_first_token_seconds_count", M);
            double outSum = value(before, "arbor_frontend_output_sequence_tokens_sum", M);
            double itl = value(before, "arbor_frontend_inter_token_latency_seconds_count", M);
            double generated = value(before, "arbor_worker_generated_tokens_total", W, M);

            var chat = SyntheticServers.post(node, "/v1/chat/completions", "{\"model\":\"synthetic\",\"max_tokens\":5,"
                    + "\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
            assertEquals(200, chat.statusCode(), chat.body());
            var stream = SyntheticServers.post(node, "/v1/completions", "{\"model\":\"synthetic\",\"prompt\":\"abc\","
                    + "\"max_tokens\":7,\"ignore_eos\":true,\"stream\":true}");
            assertEquals(200, stream.statusCode(), stream.body());

            String after = await(node, s -> value(s, "arbor_frontend_requests_total", M,
                    "endpoint=\"completions\"", "request_type=\"stream\"", "status=\"success\"") >= streamOk + 1
                    && value(s, "arbor_worker_generated_tokens_total", W, M) >= generated + 12);
            assertEquals(chatOk + 1, value(after, "arbor_frontend_requests_total", M, "endpoint=\"chat_completions\"",
                    "request_type=\"unary\"", "status=\"success\""));
            assertEquals(ttft + 2, value(after, "arbor_frontend_time_to_first_token_seconds_count", M));
            assertEquals(outSum + 12, value(after, "arbor_frontend_output_sequence_tokens_sum", M));
            // chunks whose text is still held back (half a UTF-8 char) reach the client later: count moved, not exact
            assertTrue(value(after, "arbor_frontend_inter_token_latency_seconds_count", M) > itl, after);
            assertEquals(0, value(after, "arbor_frontend_inflight_requests", M));
            assertEquals(0, value(after, "arbor_frontend_queued_requests", M));
            assertTrue(value(after, "arbor_frontend_request_duration_seconds_count", M) >= 2);
            assertTrue(value(after, "arbor_worker_kv_blocks_total", W, M) >= 0, after);
            assertTrue(value(after, "arbor_worker_step_duration_seconds_count", W, M) >= 1, after);

            // refused before generation: counted as errors with model and request type unknown
            String[] refusedLabels = {"model=\"unknown\"", "endpoint=\"completions\"", "request_type=\"unknown\"",
                    "status=\"error\""};
            double refused = value(after, "arbor_frontend_requests_total", refusedLabels);
            assertEquals(400, SyntheticServers.post(node, "/v1/completions", "{not json").statusCode());
            await(node, s -> value(s, "arbor_frontend_requests_total", refusedLabels) == refused + 1);

            HttpResponse<String> raw = SyntheticServers.get(node, "/metrics");
            assertTrue(raw.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        }
    }

    private static double value(String scrape, String name, String... labels) {
        double v = ScrapeText.value(scrape, name, labels);
        return Double.isNaN(v) ? 0 : v;
    }

    private static String scrape(SingleNode node) throws Exception {
        HttpResponse<String> r = SyntheticServers.get(node, "/metrics");
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /**
     * A scrape rebuilt after this call: the text is rebuilt each tick, so a scrape taken at once can miss what earlier
     * tests in this JVM recorded just before (Kamon is one registry per JVM), and exact deltas would then be wrong.
     */
    private static String nextTick(SingleNode node) throws Exception {
        String first = scrape(node);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String s = first;
        while (s.equals(first) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            s = scrape(node);
        }
        return s;
    }

    private static String await(SingleNode node, Predicate<String> ok) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String s = scrape(node);
        while (!ok.test(s)) {
            if (System.nanoTime() > deadline) throw new AssertionError("metrics did not move:\n" + s);
            Thread.sleep(200);
            s = scrape(node);
        }
        return s;
    }
}
