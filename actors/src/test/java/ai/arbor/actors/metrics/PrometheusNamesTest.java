package ai.arbor.actors.metrics;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.KvEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Records through each metrics class and checks the exact names and labels Kamon's Prometheus reporter exposes. */
class PrometheusNamesTest {
    private static ActorSystem<Void> system;

    @BeforeAll
    static void start() {
        ArborMetrics.start(Duration.ofSeconds(1));
        system = ActorSystem.create(Behaviors.empty(), "metrics-test");
    }

    @AfterAll
    static void stop() { system.terminate(); }

    @Test
    void frontendMetricsHaveDynamoNames() throws Exception {
        List<GenerationEvent> events = List.of(
                new GenerationEvent.Delta(0, "a", new int[] {1}, null),
                new GenerationEvent.Delta(0, "bc", new int[] {2, 3}, null),
                new GenerationEvent.Finished(0, FinishReason.LENGTH),
                new GenerationEvent.Usage(7, 3, 2));
        FrontendMetrics.track(Source.from(events), "req-1", "m-front", FrontendMetrics.CHAT, true)
                .runWith(Sink.ignore(), system).toCompletableFuture().get(10, TimeUnit.SECONDS);
        // a client that goes away after the first token
        FrontendMetrics.track(Source.from(events), "req-2", "m-front", FrontendMetrics.COMPLETIONS, false)
                .take(1).runWith(Sink.ignore(), system).toCompletableFuture().get(10, TimeUnit.SECONDS);
        String l = "model=\"m-front\"";
        awaitAll(
                "arbor_frontend_requests_total{" + l + ",endpoint=\"chat_completions\",request_type=\"stream\",status=\"success\"} 1.0",
                "arbor_frontend_requests_total{" + l + ",endpoint=\"completions\",request_type=\"unary\",status=\"cancelled\"} 1.0",
                "arbor_frontend_inflight_requests{" + l + "} 0.0",
                "arbor_frontend_queued_requests{" + l + "} 0.0",
                "arbor_frontend_disconnected_clients_total{" + l + "} 1.0",
                "arbor_frontend_request_duration_seconds_count{" + l + "} 2.0",
                "arbor_frontend_time_to_first_token_seconds_bucket{le=\"0.001\"," + l + "}",
                "arbor_frontend_time_to_first_token_seconds_bucket{le=\"60.0\"," + l + "} 2.0",
                "arbor_frontend_inter_token_latency_seconds_bucket{le=\"1.0E-4\"," + l + "}",
                "arbor_frontend_inter_token_latency_seconds_count{" + l + "} 2.0",
                "arbor_frontend_input_sequence_tokens_sum{" + l + "} 7.0",
                "arbor_frontend_output_sequence_tokens_sum{" + l + "} 3.0",
                "arbor_frontend_cached_tokens_sum{" + l + "} 2.0");
    }

    @Test
    void workerMetricsGrowFromEngineStats() throws Exception {
        AtomicReference<EngineStats> stats = new AtomicReference<>(
                new EngineStats(2, 1, 30, 120, 100, 40, 0, 100, 50, 10, 3, 2_000_000));
        try (WorkerMetrics w = WorkerMetrics.start(system, "w-7", "m-work", stats::get)) {
            String l = "worker=\"w-7\",model=\"m-work\"";
            awaitAll("arbor_worker_kv_blocks_active{" + l + "} 30.0",
                    "arbor_worker_kv_blocks_total{" + l + "} 120.0",
                    "arbor_worker_kv_cache_usage_ratio{" + l + "} 0.25",
                    "arbor_worker_requests_running{" + l + "} 2.0",
                    "arbor_worker_requests_waiting{" + l + "} 1.0",
                    "arbor_worker_prefix_cache_queries_total{" + l + "} 100.0",
                    "arbor_worker_prefix_cache_hits_total{" + l + "} 40.0",
                    "arbor_worker_preemptions_total{" + l + "} 0.0",
                    "arbor_worker_generated_tokens_total{" + l + "} 50.0",
                    "arbor_worker_batch_size_bucket{le=\"4.0\"," + l + "} 1.0",
                    "arbor_worker_step_duration_seconds_bucket{le=\"0.0025\"," + l + "} 1.0");
            stats.set(new EngineStats(0, 0, 0, 120, 160, 70, 1, 150, 90, 12, 1, 1_000_000));
            awaitAll("arbor_worker_prefix_cache_queries_total{" + l + "} 160.0",
                    "arbor_worker_prefix_cache_hits_total{" + l + "} 70.0",
                    "arbor_worker_preemptions_total{" + l + "} 1.0",
                    "arbor_worker_generated_tokens_total{" + l + "} 90.0",
                    "arbor_worker_requests_running{" + l + "} 0.0");
        }
    }

    @Test
    void kvSharingMetricsHaveTheIssuesNames() throws Exception {
        AtomicReference<EngineStats> stats = new AtomicReference<>(
                new EngineStats(0, 0, 0, 120, 0, 0, 0, 0, 0, 0, 0, 0, 17, 5, 8));
        try (WorkerMetrics w = WorkerMetrics.start(system, "w-kv", "m-kv", stats::get)) {
            String l = "worker=\"w-kv\",model=\"m-kv\"";
            new KvTransferMetrics("w-kv").sent(4, 2_000_000);
            new KvTransferMetrics("w-kv").received(6, 3_000_000);
            new KvTransferMetrics("w-kv").failed(KvTransferMetrics.Op.PREFILL, KvTransferMetrics.Failure.DEADLINE);
            RouterMetrics.disaggregated("m-kv");
            awaitAll("arbor_worker_kv_host_blocks{" + l + "} 17.0",
                    "arbor_worker_kv_onboarded_blocks_total{source=\"host\"," + l + "} 5.0",
                    "arbor_worker_kv_onboarded_blocks_total{source=\"peer\"," + l + "} 8.0",
                    "arbor_worker_kv_transfer_blocks_total{direction=\"sent\",worker=\"w-kv\"} 4.0",
                    "arbor_worker_kv_transfer_blocks_total{direction=\"received\",worker=\"w-kv\"} 6.0",
                    "arbor_worker_kv_transfer_seconds_count{direction=\"received\",worker=\"w-kv\"} 1.0",
                    "arbor_worker_kv_transfer_failures_total{op=\"prefill\",reason=\"deadline\",worker=\"w-kv\"} 1.0",
                    // every other pair is there at 0 from the start, for rate()
                    "arbor_worker_kv_transfer_failures_total{op=\"pull\",reason=\"peer-error\",worker=\"w-kv\"} 0.0",
                    "arbor_router_disaggregated_requests_total{model=\"m-kv\"} 1.0");
        }
    }

    @Test
    void kvEventDropsArePublished() throws Exception {
        // a publisher whose transport is down: its buffer of 4 fills and what does not fit is dropped and counted. How
        // many depends on the sender thread: a resync it runs while the events arrive empties the buffer for more
        // (CI once saw 12 of 20), but nothing is resynced before something was dropped, so at least one is.
        try (KvEventPublisher p = new KvEventPublisher("m", 1, 4, 2, b -> {
            throw new IOException("NATS down");
        }); KvEventMetrics m = KvEventMetrics.start(system, "m-kv", "w-1", () -> new KvEventMetrics.Counts(
                p.dropped(), p.published(), p.resyncs(), p.queued()))) {
            for (int i = 0; i < 20; i++) p.onKvEvents(List.of(new KvEvent.BlockRemoved(i, new long[]{i})));
            long dropped = p.dropped();
            assertTrue(dropped >= 1, "dropped " + dropped);
            String l = "worker=\"w-1\",model=\"m-kv\"";
            awaitAll("arbor_worker_kv_events_dropped_total{" + l + "} " + (double) dropped,
                    "arbor_worker_kv_events_published_total{" + l + "} 0.0",
                    "arbor_worker_kv_events_resyncs_total{" + l + "}",
                    "arbor_worker_kv_events_queued{" + l + "}");
        }
    }

    @Test
    void routerMetricsHaveStageLabels() throws Exception {
        RouterMetrics.overhead("m-route", RouterMetrics.STAGE_ROUTE, 30_000);
        RouterMetrics.kvHitRate("m-route", 3, 4);
        RouterMetrics.kvEventsApplied("m-route", 5);
        awaitAll("arbor_router_overhead_seconds_bucket{le=\"5.0E-5\",model=\"m-route\",stage=\"route\"} 1.0",
                "arbor_router_kv_hit_rate{model=\"m-route\"} 0.75",
                "arbor_router_kv_events_applied_total{model=\"m-route\"} 5.0");
    }

    @Test
    void jvmMetricsAreExposed() throws Exception {
        String text = "";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            text = ArborMetrics.scrape();
            if (ScrapeText.value(text, "jvm_memory_used_bytes", "area=\"heap\"") > 0
                    && ScrapeText.value(text, "jvm_threads_live") > 0
                    && text.contains("jvm_gc_collections_total{") && text.contains("jvm_gc_collection_time_seconds_total{")
                    && text.contains("process_cpu_usage_ratio ")) {
                return;
            }
            Thread.sleep(200);
        }
        fail("JVM metrics missing:\n" + text);
    }

    /**
     * Waits until every expected sample is in the scrape. An expectation is a sample line, {@code name{labels} value}
     * or without the value; label order does not matter (Kamon's is a hash order).
     */
    public static void awaitAll(String... lines) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        String text = "";
        while (System.nanoTime() < deadline) {
            text = ArborMetrics.scrape();
            boolean all = true;
            for (String l : lines) all &= contains(text, l);
            if (all) return;
            Thread.sleep(200);
        }
        StringBuilder missing = new StringBuilder();
        for (String l : lines) if (!contains(text, l)) missing.append("\n  ").append(l);
        fail("missing from the scrape:" + missing + "\n--- scrape ---\n" + text);
    }

    static boolean contains(String scrape, String expected) {
        Sample want = Sample.parse(expected);
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) continue;
            Sample got = Sample.parse(line);
            if (got.name.equals(want.name) && got.labels.equals(want.labels)
                    && (want.value == null || want.value.equals(got.value))) {
                return true;
            }
        }
        return false;
    }

    private record Sample(String name, java.util.Set<String> labels, String value) {
        static Sample parse(String line) {
            int open = line.indexOf('{');
            int close = line.lastIndexOf('}');
            String name = open < 0 ? line.split(" ")[0] : line.substring(0, open);
            java.util.Set<String> labels = new java.util.HashSet<>();
            if (open >= 0) for (String kv : line.substring(open + 1, close).split(",")) if (!kv.isEmpty()) labels.add(kv);
            String rest = (close < 0 ? line.substring(name.length()) : line.substring(close + 1)).trim();
            return new Sample(name, labels, rest.isEmpty() ? null : rest);
        }
    }
}
