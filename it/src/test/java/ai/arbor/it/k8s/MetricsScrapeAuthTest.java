package ai.arbor.it.k8s;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.config.ArborConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Prometheus can scrape every Arbor pod: where a pod's management {@code /metrics} needs a key (keys configured, by
 * API keys or a scrape key, and {@code management-require-key} on), the PodMonitor scraping it sends a Bearer key from
 * a Secret, and the pod accepts that very Secret key as its scrape key ({@code ARBOR_METRICS_KEY_FILE} names the file
 * the Secret's key is mounted as). Otherwise every scrape is a 401 and the dashboards stay empty. The Secret itself is
 * never rendered: a real key must not live in the repository, and {@code kubectl apply} must not overwrite it.
 */
class MetricsScrapeAuthTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    @TempDir
    Path dir;

    static List<String> problems(Manifests m, Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("application.conf"),
                ArborConfigMapTest.arborConfigMap(m).path("data").path("application.conf").asText());
        List<String> problems = new ArrayList<>();
        for (JsonNode w : m.workloads()) {
            if (Manifests.podSpec(w).path("containers").valueStream()
                    .noneMatch(c -> Manifests.isArborImage(c.path("image").asText()))) continue;
            JsonNode container = Manifests.arborContainer(w);
            Config frontend = ArborConfig.load(Map.of(), file, Manifests.env(container)).getConfig("arbor.frontend");
            boolean keys = !frontend.getString("api-key").isBlank() || !frontend.getString("api-keys-file").isBlank()
                    || !frontend.getString("metrics-key-file").isBlank();
            boolean requiresKey = keys && frontend.getBoolean("management-require-key");
            String scrapeKeyFile = frontend.getString("metrics-key-file").trim();
            for (JsonNode pm : m.ofKind("PodMonitor")) {
                if (!Manifests.namespace(pm).equals(Manifests.namespace(w))
                        || !NetworkPolicyRules.matches(pm.path("spec").path("selector"), Manifests.templateLabels(w))) {
                    continue;
                }
                for (JsonNode e : pm.path("spec").path("podMetricsEndpoints")) {
                    if (!e.path("port").asText().equals("management") || !requiresKey) continue;
                    String where = Manifests.id(pm) + " scraping " + Manifests.id(w);
                    JsonNode auth = e.path("authorization");
                    String secret = auth.path("credentials").path("name").asText("");
                    String key = auth.path("credentials").path("key").asText("");
                    if (!auth.path("type").asText("Bearer").equals("Bearer") || secret.isEmpty() || key.isEmpty()) {
                        problems.add(where + ": the management port requires a key, the PodMonitor sends no Bearer authorization");
                        continue;
                    }
                    if (m.find("Secret", Manifests.namespace(pm), secret).isPresent()) {
                        problems.add(where + ": the Secret " + secret + " is rendered by the overlay");
                    }
                    if (!mountsSecretKeyAt(w, container, secret, key, scrapeKeyFile)) {
                        problems.add(where + ": the pod's scrape key file (arbor.frontend.metrics-key-file = '"
                                + scrapeKeyFile + "') is not key " + key + " of Secret " + secret);
                    }
                }
            }
        }
        return problems;
    }

    /** True when {@code path} in the container is the file a volume of Secret {@code secret} makes of {@code key}. */
    static boolean mountsSecretKeyAt(JsonNode workload, JsonNode container, String secret, String key, String path) {
        if (path.isEmpty()) return false;
        for (JsonNode mount : container.path("volumeMounts")) {
            String mountPath = mount.path("mountPath").asText();
            if (!path.startsWith(mountPath + "/")) continue;
            String inVolume = path.substring(mountPath.length() + 1);
            for (JsonNode v : Manifests.podSpec(workload).path("volumes")) {
                if (!v.path("name").asText().equals(mount.path("name").asText())) continue;
                JsonNode s = v.path("secret");
                if (!s.path("secretName").asText().equals(secret)) return false;
                JsonNode items = s.path("items");
                if (items.isMissingNode() || items.isEmpty()) return inVolume.equals(key);
                return items.valueStream().anyMatch(i -> i.path("key").asText().equals(key)
                        && i.path("path").asText().equals(inVolume));
            }
        }
        return false;
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void podMonitorsSendTheKeyThePodsAccept(String overlay) throws IOException {
        List<String> problems = problems(Kustomize.overlay(overlay), dir);
        assertTrue(problems.isEmpty(), overlay + ":\n" + String.join("\n", problems));
    }

    /** The check sees the failure it exists for: production's PodMonitor without its authorization. */
    @Test
    void aPodMonitorWithoutAuthorizationIsCaught() throws IOException {
        Manifests m = Kustomize.overlay("production");
        List<JsonNode> objects = new ArrayList<>();
        for (JsonNode o : m.objects()) {
            JsonNode copy = o.deepCopy();
            if (Manifests.kind(o).equals("PodMonitor") && Manifests.namespace(o).equals("arbor")) {
                copy.path("spec").path("podMetricsEndpoints").forEach(e -> ((ObjectNode) e).remove("authorization"));
            }
            objects.add(copy);
        }
        List<String> problems = problems(new Manifests("production without authorization", objects), dir);
        assertTrue(problems.stream().anyMatch(p -> p.contains("arbor-frontend") && p.contains("sends no Bearer")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("arbor-worker") && p.contains("sends no Bearer")), problems.toString());
    }
}
