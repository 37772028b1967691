package ai.arbor.it.obs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.cluster.node.ClusterNode;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.http.SamplingDefaults;
import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.it.support.ChildProcess;
import ai.arbor.it.support.EtcdProcess;
import ai.arbor.it.support.FreePorts;
import ai.arbor.it.support.InProcessNodes;
import ai.arbor.it.support.Which;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Debian's {@code prometheus} scrapes a serving node's {@code /metrics}, a cluster node's management
 * {@code /metrics} and etcd; after traffic every Arbor metric exists in Prometheus and the traffic counters moved, and
 * every PromQL expression of the dashboards under {@code k8s/dashboards/} parses and evaluates.
 */
class PrometheusScrapeIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Every series name the scrape must hold (histograms by their _count). */
    static final List<String> METRICS = List.of(
            "arbor_frontend_requests_total", "arbor_frontend_inflight_requests", "arbor_frontend_queued_requests",
            "arbor_frontend_request_duration_seconds_count", "arbor_frontend_time_to_first_token_seconds_count",
            "arbor_frontend_inter_token_latency_seconds_count", "arbor_frontend_input_sequence_tokens_count",
            "arbor_frontend_output_sequence_tokens_count", "arbor_frontend_cached_tokens_count",
            "arbor_router_overhead_seconds_count",
            "arbor_worker_kv_blocks_active", "arbor_worker_kv_blocks_total", "arbor_worker_kv_cache_usage_ratio",
            "arbor_worker_prefix_cache_queries_total", "arbor_worker_prefix_cache_hits_total",
            "arbor_worker_requests_running", "arbor_worker_requests_waiting", "arbor_worker_preemptions_total",
            "arbor_worker_batch_size_count", "arbor_worker_step_duration_seconds_count",
            "arbor_worker_generated_tokens_total", "arbor_cluster_members");

    @Test
    void prometheusSeesEveryMetricAndTheDashboardsEvaluate() throws Exception {
        String prometheus = Which.find("prometheus", "the Debian package prometheus");
        Path dir = Files.createTempDirectory("arbor-prometheus-");
        try (EtcdProcess etcd = EtcdProcess.start()) {
            ClusterNode node = InProcessNodes.start(etcd.endpoint(), "obs", "frontend");
            try (SingleNode serving = startServing()) {
                int mgmt = node.settings().managementPort();
                int port = FreePorts.next();
                Files.writeString(dir.resolve("prometheus.yml"), "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        + "scrape_configs:\n"
                        + job("arbor-frontend", "127.0.0.1:" + serving.port())
                        + job("arbor-management", "127.0.0.1:" + mgmt)
                        + job("etcd", "127.0.0.1:" + etcd.clientPort()));
                try (ChildProcess prom = new ChildProcess("prometheus", List.of(prometheus,
                        "--config.file=" + dir.resolve("prometheus.yml"), "--storage.tsdb.path=" + dir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port, "--log.level=warn"), dir.resolve("prometheus.log"))) {
                    prom.start();
                    String api = "http://127.0.0.1:" + port;
                    prom.awaitReady(() -> ChildProcess.httpOk(api + "/-/ready", ""), Duration.ofSeconds(30));
                    for (int i = 0; i < 4; i++) {
                        var r = post(serving.url() + "/v1/chat/completions", "{\"model\":\"synthetic\",\"max_tokens\":6,"
                                + "\"ignore_eos\":true,\"stream\":" + (i % 2 == 0) + ",\"messages\":[{\"role\":\"user\","
                                + "\"content\":\"hello " + i + "\"}]}");
                        assertEquals(200, r.statusCode(), r.body());
                    }
                    for (String m : METRICS) awaitSeries(api, m);
                    awaitSeries(api, "etcd_server_has_leader");
                    awaitPositive(api, "sum(arbor_frontend_requests_total{status=\"success\"})");
                    awaitPositive(api, "sum(arbor_worker_generated_tokens_total)");
                    awaitPositive(api, "sum(arbor_frontend_time_to_first_token_seconds_count)");
                    awaitPositive(api, "sum(arbor_cluster_members{role=\"frontend\",status=\"up\"})");
                    checkDashboards(api);
                }
            } finally {
                node.close();
            }
        }
    }

    private static SingleNode startServing() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.host", "127.0.0.1",
                "arbor.served-model-name", "synthetic", "arbor.device", "synthetic"), null, Map.of()));
        ByteTokenizer tok = new ByteTokenizer();
        // 5 ms steps: tokens come apart, so the stream does not merge them all into one chunk (which has no gaps to
        // count as inter-token latency)
        return SingleNode.start(s, new SingleNode.ModelSpec(tok, 512, SamplingDefaults.none()),
                new SyntheticEngine(512, 16, tok.eosTokenIds(), 5_000_000));
    }

    private static String job(String name, String target) {
        return "  - job_name: " + name + "\n    static_configs:\n      - targets: ['" + target + "']\n";
    }

    /** Every "expr" of every dashboard parses and, once data is there, evaluates to something. */
    private static void checkDashboards(String api) throws Exception {
        Path dashboards = repoRoot().resolve("k8s/dashboards");
        if (!Files.isDirectory(dashboards)) return;
        List<String> problems = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> files = Files.list(dashboards)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                for (String expr : exprs(JSON.readTree(f.toFile()))) {
                    String q = grafanaVariables(expr);
                    JsonNode r = query(api, q);
                    checked++;
                    if (!"success".equals(r.path("status").asText())) {
                        problems.add(f.getFileName() + ": " + expr + " -> " + r.path("error").asText());
                    } else if (allSeriesExist(api, q) && !awaitResult(api, q)) {
                        problems.add(f.getFileName() + ": " + expr + " -> no data although its metrics have series");
                    }
                }
            }
        }
        if (!problems.isEmpty()) fail("dashboard expressions that fail:\n" + String.join("\n", problems));
        assertTrue(checked > 0 || !Files.list(dashboards).findAny().isPresent(), "no expressions found in dashboards");
    }

    private static final Pattern METRIC = Pattern.compile("\\b((?:arbor|etcd|nats|process|go)_[a-zA-Z0-9_]+)");

    private static boolean allSeriesExist(String api, String q) throws Exception {
        Matcher m = METRIC.matcher(q);
        boolean any = false;
        while (m.find()) {
            any = true;
            if (query(api, "count({__name__=\"" + m.group(1) + "\"})").path("data").path("result").size() == 0) return false;
        }
        return any;
    }

    /** rate() needs two samples in its window: give the expression a few scrapes. */
    private static boolean awaitResult(String api, String q) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (query(api, q).path("data").path("result").size() > 0) return true;
            Thread.sleep(500);
        }
        return false;
    }

    private static List<String> exprs(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n.isObject()) {
            n.fields().forEachRemaining(e -> {
                if (e.getKey().equals("expr") && e.getValue().isTextual() && !e.getValue().asText().isBlank()) {
                    out.add(e.getValue().asText());
                } else {
                    out.addAll(exprs(e.getValue()));
                }
            });
        } else if (n.isArray()) {
            n.forEach(c -> out.addAll(exprs(c)));
        }
        return out;
    }

    /** Grafana's built-in interval variables become fixed ranges; template variables match anything. */
    static String grafanaVariables(String expr) {
        String q = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "5m")
                .replace("${__rate_interval}", "1m");
        Matcher m = Pattern.compile("=~?\"\\$\\{?([A-Za-z_][A-Za-z0-9_]*)(:[a-z]+)?}?\"").matcher(q);
        q = m.replaceAll("=~\".*\"");
        return q.replaceAll("\\$\\{?[A-Za-z_][A-Za-z0-9_]*}?", ".*");
    }

    private static void awaitSeries(String api, String metric) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            JsonNode r = query(api, metric);
            if (r.path("data").path("result").size() > 0) return;
            if (System.nanoTime() > deadline) fail("Prometheus has no series " + metric + ": " + r);
            Thread.sleep(500);
        }
    }

    private static void awaitPositive(String api, String q) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            JsonNode res = query(api, q).path("data").path("result");
            if (res.size() > 0 && res.get(0).path("value").get(1).asDouble() > 0) return;
            if (System.nanoTime() > deadline) fail(q + " never became positive: " + res);
            Thread.sleep(500);
        }
    }

    private static JsonNode query(String api, String q) throws Exception {
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/query?query="
                + URLEncoder.encode(q, StandardCharsets.UTF_8))).GET().build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("k8s"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("repository root (with k8s/) not found above " + Path.of("").toAbsolutePath());
        return p;
    }
}
