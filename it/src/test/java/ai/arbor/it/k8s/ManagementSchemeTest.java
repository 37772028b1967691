package ai.arbor.it.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.config.EnvironmentVariables;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Probes and Prometheus speak the management port's scheme: HTTPS exactly where the pod turns on management TLS
 * ({@code ARBOR_MANAGEMENT_TLS_CERT_FILE}), and every Arbor pod of an overlay alike, since Cluster Bootstrap probes
 * other nodes with its own scheme. A probe with the wrong scheme fails for good: readiness never passes.
 */
class ManagementSchemeTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    static String env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) if (e.path("name").asText().equals(name)) return e.path("value").asText();
        return null;
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void probesAndScrapesUseTheSchemeTheManagementPortServes(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        Set<Boolean> tls = new TreeSet<>();
        List<String> errors = new ArrayList<>();
        for (JsonNode c : m.arborContainers()) {
            boolean on = env(c, "ARBOR_MANAGEMENT_TLS_CERT_FILE") != null;
            tls.add(on);
            int managementProbes = 0;
            for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                JsonNode get = c.path(probe).path("httpGet");
                if (!get.path("port").asText().equals("management")) continue;
                managementProbes++;
                String scheme = get.path("scheme").asText("HTTP");
                if (!scheme.equals(on ? "HTTPS" : "HTTP")) errors.add(c.path("name").asText() + " " + probe + ": " + scheme);
            }
            assertTrue(managementProbes >= 2, overlay + ": readiness and liveness probe the management port");
        }
        assertEquals(1, tls.size(), overlay + ": some Arbor pods serve management over HTTPS and some do not");
        boolean on = tls.iterator().next();
        for (JsonNode pm : m.ofKind("PodMonitor")) {
            if (!Manifests.namespace(pm).equals("arbor")) continue;
            for (JsonNode e : pm.path("spec").path("podMetricsEndpoints")) {
                if (!e.path("port").asText().equals("management")) continue;
                String scheme = e.path("scheme").asText("http");
                if (!scheme.equals(on ? "https" : "http")) errors.add(Manifests.id(pm) + ": scheme " + scheme);
                if (on && e.path("tlsConfig").path("ca").path("secret").path("name").asText().isEmpty()) {
                    errors.add(Manifests.id(pm) + ": no CA to check the management certificate with");
                }
            }
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @Test
    void productionServesManagementOverHttpsFromTheNodeSecret() {
        Manifests m = Kustomize.overlay("production");
        for (JsonNode c : m.arborContainers()) {
            for (String file : List.of("ARBOR_MANAGEMENT_TLS_CERT_FILE", "ARBOR_MANAGEMENT_TLS_KEY_FILE", "ARBOR_MANAGEMENT_TLS_CA_FILE")) {
                String value = env(c, file);
                assertTrue(value != null && value.startsWith("/etc/arbor/tls/"), file + " names the mounted arbor-node-tls Secret: " + value);
                assertTrue(EnvironmentVariables.MAPPING.containsKey(file), file + " is a variable Arbor reads");
            }
            // pods are dialled by IP; the Secret's certificate names arbor-node (docs/kubernetes.md)
            assertEquals("arbor-node", env(c, "ARBOR_MANAGEMENT_TLS_SERVER_NAME"));
        }
    }
}
