package ai.arbor.cluster.bench;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportBuilderTest {
    private static final long MS = 1_000_000L;

    static BenchSettings settings(int n) {
        return new BenchSettings(URI.create("http://127.0.0.1:1"), "m", Endpoint.CHAT, "random", n, 2,
                Double.POSITIVE_INFINITY, 8, 4, 0, 0, 0, 0, null, Path.of("x"), null, null, Duration.ofSeconds(5),
                false, 0);
    }

    @Test
    void figuresFollowVllmDefinitions() {
        long t0 = 1_000 * MS;
        // Request 0: sent at 0, tokens at 100, 120, 150, 160 ms, done at 170 ms; 10 prompt tokens, 6 cached.
        RequestResult a = new RequestResult(0, true, 200, null, t0, t0 + 170 * MS,
                new long[]{t0 + 100 * MS, t0 + 120 * MS, t0 + 150 * MS, t0 + 160 * MS}, 10, 4, 6, "length");
        // Request 1: sent at 50 ms, tokens at 250 and 300, done at 300; 30 prompt tokens, none cached.
        RequestResult b = new RequestResult(1, true, 200, null, t0 + 50 * MS, t0 + 300 * MS,
                new long[]{t0 + 250 * MS, t0 + 300 * MS}, 30, 2, 0, "length");
        RequestResult c = new RequestResult(2, false, 400, "too long", t0 + 60 * MS, t0 + 70 * MS, new long[0], -1, 0,
                0, null);
        RequestResult d = new RequestResult(3, false, 0, "connection refused", t0 + 60 * MS, t0 + 70 * MS,
                new long[0], -1, 0, 0, null);
        RequestDriver.Run run = new RequestDriver.Run(List.of(a, b, c, d), t0, t0 + 500 * MS);
        BenchReport r = ReportBuilder.build(settings(4), run, Instant.EPOCH);

        assertEquals(2, r.completed());
        assertEquals(2, r.failed());
        assertEquals(0.5, r.durationSeconds(), 1e-9);
        assertEquals(40, r.totalInputTokens());
        assertEquals(6, r.totalOutputTokens());
        assertEquals(6.0 / 40, r.cachedTokenRatio(), 1e-12);
        assertEquals(4.0, r.requestThroughput(), 1e-9);
        assertEquals(12.0, r.outputThroughput(), 1e-9);
        assertEquals(92.0, r.totalTokenThroughput(), 1e-9);
        assertEquals(150.0, r.ttftMs().mean(), 1e-9); // (100 + 200) / 2
        // TPOT: a = (170 - 100) / 3, b = (250 - 200) / 1
        assertEquals(((70.0 / 3) + 50) / 2, r.tpotMs().mean(), 1e-9);
        // ITL: 20, 30, 10 from a and 50 from b
        assertEquals(4, r.itlMs().count());
        assertEquals(27.5, r.itlMs().mean(), 1e-9);
        assertEquals(50, r.itlMs().max(), 1e-9);
        assertEquals(210.0, r.e2eMs().mean(), 1e-9); // (170 + 250) / 2
        assertEquals(1, r.errors().get("HTTP 400"));
        assertEquals(1, r.errors().get("no response"));
        assertEquals("too long", r.errorExamples().get("HTTP 400"));
        assertEquals(4, r.requests().size());

        double tokens = 0;
        double width = r.timeline().size() > 1 ? r.timeline().get(1).startSeconds() : 0.5;
        for (TimelinePoint p : r.timeline()) {
            tokens += p.outputTokensPerSecond() * Math.min(width, 0.5 - p.startSeconds());
        }
        assertEquals(6, tokens, 1e-6, "the timeline accounts for every output token");
        String json = ReportJson.toJson(r);
        assertTrue(json.contains("\"cached_token_ratio\" : 0.15"), json);
        assertTrue(json.contains("\"ttft_ms\""), json);
    }

    @Test
    void allFailedLeavesLatenciesUnmeasured() {
        RequestResult c = new RequestResult(0, false, 503, "busy", 0, 10 * MS, new long[0], -1, 0, 0, null);
        BenchReport r = ReportBuilder.build(settings(1), new RequestDriver.Run(List.of(c), 0, 20 * MS), Instant.EPOCH);
        assertEquals(0, r.completed());
        assertNull(r.ttftMs());
        assertNull(r.itlMs());
        ReportPrinter.print(r, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    }
}
