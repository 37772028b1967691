package ai.arbor.cluster.bench;

import ai.arbor.cluster.cli.ServeCommand;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.protocol.EngineStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptance test of {@code arbor bench}: it drives the real {@code arbor serve} (the tiny Qwen2 model on the CPU
 * engine, in this JVM) and its counts must agree with the engine's own counters.
 */
class BenchAgainstServeTest {
    static final Path MODEL = Path.of("..", "..", "models", "tiny-qwen2");
    static ServeCommand.Running running;
    static URI url;

    @BeforeAll
    static void start() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model", MODEL.toString(), "arbor.port", 0,
                "arbor.engine.kv-cache-memory", "64MiB", "arbor.engine.max-model-len", 1024), null, Map.of()));
        running = ServeCommand.start(s);
        url = URI.create(running.node().url());
    }

    @AfterAll
    static void stop() {
        running.close();
    }

    private static BenchSettings settings(Endpoint endpoint, String dataset, int n, int concurrency, int inputLen,
                                          int outputLen, int prefixLen, int groups, int perGroup, Path out, Path plot) {
        return new BenchSettings(url, null, endpoint, dataset, n, concurrency, Double.POSITIVE_INFINITY, inputLen,
                outputLen, prefixLen, groups, perGroup, 0, null, MODEL, out, plot, Duration.ofSeconds(60), true, 0);
    }

    private static EngineStats stats() {
        return running.model().engine().stats();
    }

    private static BenchReport bench(BenchSettings s, ByteArrayOutputStream screen) {
        PrintStream out = new PrintStream(screen, true, StandardCharsets.UTF_8);
        return new BenchRunner(out, out, false).run(s);
    }

    /** How much one metric grew during the run on the server, summed over its label sets. */
    private static double serverDelta(BenchReport r, String metric) {
        assertNotNull(r.serverMetrics(), "the bench scraped the server's /metrics");
        return r.serverMetrics().entrySet().stream().filter(e -> PrometheusText.metricName(e.getKey()).equals(metric))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    @Test
    void chatRunMatchesTheEnginesCounters(@TempDir Path dir) throws Exception {
        int n = 20, outputLen = 16;
        EngineStats before = stats();
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        BenchReport r = bench(settings(Endpoint.CHAT, "random", n, 4, 64, outputLen, 0, 0, 0, dir.resolve("r.json"),
                dir.resolve("r.png")), screen);
        EngineStats after = stats();

        assertEquals(n, r.completed(), () -> r.errorExamples().toString());
        assertEquals(0, r.failed());
        assertEquals("tiny-qwen2", r.model(), "the model name comes from the server's /v1/models");
        assertEquals((long) n * outputLen, r.totalOutputTokens(), "ignore_eos makes every request run to max_tokens");
        r.requests().forEach(q -> assertEquals(outputLen, q.outputTokens()));
        // Each prompt is 64 content tokens plus the chat template's wrapping (a default system prompt and markers).
        r.requests().forEach(q -> assertTrue(q.promptTokens() > 64 && q.promptTokens() < 64 + 80, "" + q));
        assertEquals(r.totalOutputTokens(), after.generatedTokens() - before.generatedTokens(),
                "client and engine agree on generated tokens");
        assertEquals(r.totalInputTokens(), after.promptTokens() - before.promptTokens(),
                "client and engine agree on prompt tokens");
        assertEquals(r.cachedTokens(), after.prefixCacheHits() - before.prefixCacheHits(),
                "usage.cached_tokens adds up to the engine's prefix-cache hits");
        // The server's own /metrics grew by what the client counted (the bench scrapes a fresh tick around the run).
        assertEquals(n, serverDelta(r, "arbor_frontend_requests_total"), () -> r.serverMetrics().toString());
        assertEquals(r.totalOutputTokens(), serverDelta(r, "arbor_worker_generated_tokens_total"));
        assertEquals(r.totalOutputTokens(), serverDelta(r, "arbor_frontend_output_sequence_tokens_sum"));
        assertEquals(r.totalInputTokens(), serverDelta(r, "arbor_frontend_input_sequence_tokens_sum"));
        assertEquals(n, serverDelta(r, "arbor_frontend_time_to_first_token_seconds_count"));
        // Derived figures are consistent with the raw ones.
        assertEquals(r.totalOutputTokens() / r.durationSeconds(), r.outputThroughput(), 1e-6);
        assertEquals(n, r.ttftMs().count());
        // One gap between consecutive text chunks; a token that completes no character yet sends no chunk.
        assertTrue(r.itlMs().count() <= n * (outputLen - 1) && r.itlMs().count() >= n * (outputLen - 1) / 2,
                "gaps " + r.itlMs().count());
        assertTrue(r.ttftMs().p50() <= r.e2eMs().p50());
        assertTrue(r.e2eMs().max() / 1000 <= r.durationSeconds() + 1e-9);
        assertTrue(Files.size(dir.resolve("r.png")) > 10_000);
        assertTrue(Files.readString(dir.resolve("r.json")).contains("\"completed\" : 20"));
        String text = screen.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("20/20 requests"), text);
    }

    @Test
    void sharedPrefixRunHitsTheCache() {
        int groups = 2, perGroup = 5, prefix = 64;
        EngineStats before = stats();
        BenchReport r = bench(settings(Endpoint.COMPLETIONS, "shared-prefix", groups * perGroup, 1, 16, 4, prefix,
                groups, perGroup, null, null), new ByteArrayOutputStream());
        EngineStats after = stats();
        assertEquals(groups * perGroup, r.completed(), () -> r.errorExamples().toString());
        // Token-id prompts: the server counts exactly prefix + suffix tokens.
        r.requests().forEach(q -> assertEquals(prefix + 16, q.promptTokens()));
        // One at a time, so every prompt after its group's first finds the 64-token prefix (4 full blocks) cached.
        assertTrue(r.cachedTokens() >= (long) groups * (perGroup - 1) * prefix, "cached " + r.cachedTokens());
        assertTrue(r.cachedTokenRatio() > 0.5, "ratio " + r.cachedTokenRatio());
        assertEquals(r.cachedTokens(), after.prefixCacheHits() - before.prefixCacheHits());
        assertEquals(r.totalOutputTokens(), after.generatedTokens() - before.generatedTokens());
    }
}
