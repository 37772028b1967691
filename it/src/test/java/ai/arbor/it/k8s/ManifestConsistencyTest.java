package ai.arbor.it.k8s;

import static ai.arbor.it.k8s.Manifests.containers;
import static ai.arbor.it.k8s.Manifests.id;
import static ai.arbor.it.k8s.Manifests.kind;
import static ai.arbor.it.k8s.Manifests.name;
import static ai.arbor.it.k8s.Manifests.namespace;
import static ai.arbor.it.k8s.Manifests.podSpec;
import static ai.arbor.it.k8s.Manifests.selects;
import static ai.arbor.it.k8s.Manifests.strings;
import static ai.arbor.it.k8s.Manifests.templateLabels;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** What the API server would accept but would not work: selectors that select nothing, ports nobody opens, dangling names. */
class ManifestConsistencyTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void workloadSelectorsMatchTheirPodTemplates(String overlay) {
        List<String> errors = new ArrayList<>();
        for (JsonNode w : Kustomize.overlay(overlay).workloads()) {
            Map<String, String> selector = strings(w.path("spec").path("selector").path("matchLabels"));
            if (!selects(selector, templateLabels(w))) errors.add(id(w) + ": selector " + selector + " vs template labels " + templateLabels(w));
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void servicesSelectPodsAndTargetPortsTheyOpen(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        List<String> errors = new ArrayList<>();
        for (JsonNode svc : m.ofKind("Service")) {
            Map<String, String> selector = strings(svc.path("spec").path("selector"));
            List<JsonNode> pods = podsSelected(m, namespace(svc), selector);
            if (pods.isEmpty()) {
                errors.add(id(svc) + ": selector " + selector + " matches no pod template in " + namespace(svc));
                continue;
            }
            for (JsonNode port : svc.path("spec").path("ports")) {
                JsonNode target = port.has("targetPort") ? port.get("targetPort") : port.get("port");
                for (JsonNode pod : pods) {
                    if (!opensPort(pod, target)) errors.add(id(svc) + ": port " + port.path("name").asText() + " targets " + target + ", which no container opens");
                }
            }
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void probesUsePortsTheContainerOpens(String overlay) {
        List<String> errors = new ArrayList<>();
        int probes = 0;
        for (JsonNode w : Kustomize.overlay(overlay).workloads()) {
            for (JsonNode c : podSpec(w).path("containers")) {
                for (String kind : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
                    JsonNode probe = c.path(kind);
                    if (probe.isMissingNode()) continue;
                    probes++;
                    JsonNode port = probe.has("httpGet") ? probe.path("httpGet").path("port") : probe.path("tcpSocket").path("port");
                    if (port.isMissingNode()) continue; // exec probes
                    if (!containerOpens(c, port)) errors.add(id(w) + " container " + c.path("name").asText() + ": " + kind + " uses port " + port + ", which it does not open");
                }
            }
        }
        assertTrue(probes > 0, overlay + " has no probes at all");
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void budgetsAndMonitorsSelectPods(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        List<String> errors = new ArrayList<>();
        for (String kind : List.of("PodDisruptionBudget", "PodMonitor")) {
            for (JsonNode o : m.ofKind(kind)) {
                Map<String, String> selector = strings(o.path("spec").path("selector").path("matchLabels"));
                List<JsonNode> pods = podsSelected(m, namespace(o), selector);
                if (pods.isEmpty()) errors.add(id(o) + ": selector " + selector + " matches no pods");
                for (JsonNode ep : o.path("spec").path("podMetricsEndpoints")) {
                    for (JsonNode pod : pods) {
                        boolean named = containers(pod).stream().anyMatch(c -> containerOpens(c, ep.path("port")));
                        if (!named) errors.add(id(o) + ": scrapes port " + ep.path("port") + " that a selected pod does not name");
                    }
                }
            }
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void autoscalersTargetWorkloadsThatRequestCpu(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        for (JsonNode hpa : m.ofKind("HorizontalPodAutoscaler")) {
            JsonNode ref = hpa.path("spec").path("scaleTargetRef");
            JsonNode target = m.get(ref.path("kind").asText(), namespace(hpa), ref.path("name").asText());
            for (JsonNode c : podSpec(target).path("containers")) {
                assertTrue(c.path("resources").path("requests").has("cpu"),
                        id(hpa) + ": CPU utilisation needs a CPU request on " + id(target) + " container " + c.path("name").asText());
            }
            assertTrue(hpa.path("spec").path("minReplicas").asInt() <= hpa.path("spec").path("maxReplicas").asInt(), id(hpa) + ": min > max");
        }
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyReferencedObjectExists(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        Set<String> namespaces = new HashSet<>(m.ofKind("Namespace").stream().map(Manifests::name).toList());
        List<String> errors = new ArrayList<>();
        for (JsonNode o : m.objects()) {
            if (!kind(o).equals("Namespace") && !namespaces.contains(namespace(o))) errors.add(id(o) + ": its namespace is not created by the overlay");
        }
        for (JsonNode w : m.workloads()) {
            JsonNode spec = podSpec(w);
            String ns = namespace(w);
            if (spec.has("serviceAccountName") && m.find("ServiceAccount", ns, spec.get("serviceAccountName").asText()).isEmpty()) {
                errors.add(id(w) + ": service account " + spec.get("serviceAccountName").asText() + " missing");
            }
            if (kind(w).equals("StatefulSet") && m.find("Service", ns, w.path("spec").path("serviceName").asText()).isEmpty()) {
                errors.add(id(w) + ": governing Service " + w.path("spec").path("serviceName").asText() + " missing");
            }
            Set<String> volumes = new HashSet<>();
            for (JsonNode v : spec.path("volumes")) {
                volumes.add(v.path("name").asText());
                if (v.has("configMap") && m.find("ConfigMap", ns, v.path("configMap").path("name").asText()).isEmpty()) {
                    errors.add(id(w) + ": ConfigMap " + v.path("configMap").path("name").asText() + " missing");
                }
                if (v.has("persistentVolumeClaim") && m.find("PersistentVolumeClaim", ns, v.path("persistentVolumeClaim").path("claimName").asText()).isEmpty()) {
                    errors.add(id(w) + ": PersistentVolumeClaim " + v.path("persistentVolumeClaim").path("claimName").asText() + " missing");
                }
            }
            w.path("spec").path("volumeClaimTemplates").forEach(t -> volumes.add(name(t)));
            for (JsonNode c : containers(spec)) {
                for (JsonNode mount : c.path("volumeMounts")) {
                    if (!volumes.contains(mount.path("name").asText())) errors.add(id(w) + ": mounts undefined volume " + mount.path("name").asText());
                }
                String image = c.path("image").asText();
                if (!image.matches(".+:[A-Za-z0-9_][A-Za-z0-9_.-]*") || image.endsWith(":latest")) {
                    errors.add(id(w) + ": image " + image + " has no pinned tag");
                }
            }
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    static List<JsonNode> podsSelected(Manifests m, String namespace, Map<String, String> selector) {
        return m.workloads().stream()
                .filter(w -> namespace(w).equals(namespace) && selects(selector, templateLabels(w)))
                .map(Manifests::podSpec)
                .toList();
    }

    static boolean opensPort(JsonNode podSpec, JsonNode port) {
        return podSpec.path("containers").valueStream().anyMatch(c -> containerOpens(c, port));
    }

    /** A named port must be a container port's name; a number must be a container port's number. */
    static boolean containerOpens(JsonNode container, JsonNode port) {
        for (JsonNode p : container.path("ports")) {
            if (port.isInt() ? p.path("containerPort").asInt() == port.asInt() : p.path("name").asText().equals(port.asText())) return true;
        }
        return false;
    }
}
