package ai.arbor.it.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every k8s/dashboards/*.json reaches Grafana's sidecar as a labelled ConfigMap, and parses as a dashboard. */
class DashboardsTest {
    private static final Pattern ARBOR_METRIC = Pattern.compile("\\b(arbor_[a-z0-9_]+)");

    static List<Path> dashboardFiles() throws IOException {
        try (Stream<Path> files = Files.list(Kustomize.repoRoot().resolve("k8s/dashboards"))) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void everyDashboardFileIsInALabelledConfigMapOfEveryOverlay() throws IOException {
        List<Path> files = dashboardFiles();
        assertFalse(files.isEmpty(), "no dashboards in k8s/dashboards");
        for (String overlay : Kustomize.OVERLAYS) {
            List<JsonNode> maps = Kustomize.overlay(overlay).ofKind("ConfigMap").stream()
                    .filter(c -> "1".equals(c.path("metadata").path("labels").path("grafana_dashboard").asText())).toList();
            for (Path f : files) {
                String key = f.getFileName().toString();
                JsonNode map = maps.stream().filter(c -> c.path("data").has(key)).findFirst()
                        .orElseThrow(() -> new AssertionError(overlay + ": " + key + " is in no ConfigMap labelled grafana_dashboard=1 (list it in k8s/dashboards/kustomization.yaml)"));
                assertEquals(Files.readString(f), map.path("data").path(key).asText(), overlay + ": " + key + " changed on the way");
            }
        }
    }

    @Test
    void dashboardsParseAndQueryArborMetrics() throws IOException {
        ObjectMapper json = new ObjectMapper();
        Set<String> metrics = new LinkedHashSet<>();
        Set<String> titles = new LinkedHashSet<>();
        for (Path f : dashboardFiles()) {
            JsonNode d = json.readTree(f.toFile());
            assertFalse(d.path("title").asText().isBlank(), f + ": no title");
            assertFalse(d.path("uid").asText().isBlank(), f + ": no uid");
            assertTrue(d.path("panels").size() > 0, f + ": no panels");
            titles.add(d.path("title").asText());
            List<String> noQuery = new ArrayList<>();
            for (JsonNode panel : d.path("panels")) {
                if (panel.path("type").asText().equals("row")) continue;
                if (panel.path("targets").valueStream().noneMatch(t -> !t.path("expr").asText().isBlank())) noQuery.add(panel.path("title").asText());
                panel.path("targets").forEach(t -> {
                    Matcher m = ARBOR_METRIC.matcher(t.path("expr").asText());
                    while (m.find()) metrics.add(m.group(1));
                });
            }
            assertTrue(noQuery.isEmpty(), f + ": panels without a query: " + noQuery);
        }
        assertTrue(titles.contains("Arbor Inference"), "dashboards: " + titles);
        for (String m : List.of("arbor_frontend_requests_total", "arbor_frontend_time_to_first_token_seconds_bucket",
                "arbor_frontend_inter_token_latency_seconds_bucket", "arbor_worker_kv_cache_usage_ratio",
                "arbor_worker_requests_running", "arbor_router_kv_hit_rate")) {
            assertTrue(metrics.contains(m), "no dashboard queries " + m + "; they query " + metrics);
        }
    }

    /** A NATS exporter metric: prefix, then one of the monitor endpoints the exporter turns into series. */
    private static final Pattern NATS_EXPORTER_METRIC = Pattern.compile("\\b([a-z]+)_(varz|connz|routez|subz|jsz|jetstream|healthz|accstatz)_[a-z0-9_]+");

    @Test
    void theNatsDashboardQueriesThePrefixTheExporterIsRunWith() throws IOException {
        JsonNode d = new ObjectMapper().readTree(Kustomize.repoRoot().resolve("k8s/dashboards/nats-overview.json").toFile());
        Set<String> prefixes = new LinkedHashSet<>();
        for (JsonNode panel : d.path("panels")) {
            panel.path("targets").forEach(t -> {
                Matcher m = NATS_EXPORTER_METRIC.matcher(t.path("expr").asText());
                while (m.find()) prefixes.add(m.group(1));
            });
        }
        assertFalse(prefixes.isEmpty(), "the NATS dashboard queries no exporter metric");
        for (String overlay : Kustomize.OVERLAYS) {
            Set<String> exporterPrefixes = new LinkedHashSet<>();
            for (JsonNode workload : Kustomize.overlay(overlay).workloads()) {
                for (JsonNode c : Manifests.containers(Manifests.podSpec(workload))) {
                    if (!c.path("image").asText().contains("prometheus-nats-exporter")) continue;
                    // the exporter's default prefix is gnatsd; -prefix=X (or -prefix X) replaces it
                    String prefix = "gnatsd";
                    List<String> args = new ArrayList<>();
                    c.path("args").forEach(a -> args.add(a.asText()));
                    for (int i = 0; i < args.size(); i++) {
                        if (args.get(i).startsWith("-prefix=")) prefix = args.get(i).substring("-prefix=".length());
                        else if (args.get(i).equals("-prefix") && i + 1 < args.size()) prefix = args.get(i + 1);
                    }
                    exporterPrefixes.add(prefix);
                }
            }
            assertEquals(1, exporterPrefixes.size(), overlay + ": NATS exporters with prefixes " + exporterPrefixes);
            assertEquals(exporterPrefixes, prefixes, overlay + ": the NATS dashboard queries " + prefixes
                    + "_* but the exporter is run with -prefix=" + exporterPrefixes);
        }
    }
}
