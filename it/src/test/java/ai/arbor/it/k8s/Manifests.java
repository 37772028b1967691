package ai.arbor.it.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The objects one overlay renders to, with look-ups by kind, namespace and name. */
record Manifests(String overlay, List<JsonNode> objects) {

    static String kind(JsonNode o) { return o.path("kind").asText(); }

    static String name(JsonNode o) { return o.path("metadata").path("name").asText(); }

    static String namespace(JsonNode o) { return o.path("metadata").path("namespace").asText(""); }

    static String id(JsonNode o) { return kind(o) + " " + namespace(o) + "/" + name(o); }

    List<JsonNode> ofKind(String kind) {
        return objects.stream().filter(o -> kind.equals(kind(o))).toList();
    }

    Optional<JsonNode> find(String kind, String namespace, String name) {
        return objects.stream()
                .filter(o -> kind.equals(kind(o)) && namespace.equals(namespace(o)) && name.equals(name(o)))
                .findFirst();
    }

    JsonNode get(String kind, String namespace, String name) {
        return find(kind, namespace, name).orElseThrow(() -> new AssertionError(
                overlay + ": no " + kind + " " + namespace + "/" + name + " in the rendered overlay"));
    }

    /** Deployments and StatefulSets: the objects that own pod templates. */
    List<JsonNode> workloads() {
        List<JsonNode> w = new ArrayList<>(ofKind("Deployment"));
        w.addAll(ofKind("StatefulSet"));
        return w;
    }

    static JsonNode podSpec(JsonNode workload) { return workload.path("spec").path("template").path("spec"); }

    static Map<String, String> templateLabels(JsonNode workload) {
        return strings(workload.path("spec").path("template").path("metadata").path("labels"));
    }

    static Map<String, String> strings(JsonNode object) {
        Map<String, String> m = new LinkedHashMap<>();
        object.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }

    /** True when every key/value of the selector is among the labels (an empty selector selects nothing here). */
    static boolean selects(Map<String, String> selector, Map<String, String> labels) {
        return !selector.isEmpty() && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    /** All containers of a pod spec, init containers included. */
    static List<JsonNode> containers(JsonNode podSpec) {
        List<JsonNode> c = new ArrayList<>();
        podSpec.path("initContainers").forEach(c::add);
        podSpec.path("containers").forEach(c::add);
        return c;
    }

    /** Containers that run Arbor's image (name "arbor" before kustomize, whatever registry an overlay gives it). */
    List<JsonNode> arborContainers() {
        List<JsonNode> c = new ArrayList<>();
        for (JsonNode w : workloads()) {
            for (JsonNode container : podSpec(w).path("containers")) {
                if (isArborImage(container.path("image").asText())) c.add(container);
            }
        }
        return c;
    }

    /**
     * A container's environment as the process sees it: literal values, and a placeholder for values taken from a
     * Secret or a field ({@code valueFrom}), which are set but unknown here.
     */
    static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : container.path("env")) {
            env.put(e.path("name").asText(), e.has("valueFrom") ? "<valueFrom>" : e.path("value").asText());
        }
        return env;
    }

    /** The Arbor container of a workload's pod template. */
    static JsonNode arborContainer(JsonNode workload) {
        for (JsonNode c : podSpec(workload).path("containers")) if (isArborImage(c.path("image").asText())) return c;
        throw new AssertionError(id(workload) + " runs no Arbor container");
    }

    static boolean isArborImage(String image) {
        String repo = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
        return repo.equals("arbor") || repo.endsWith("/arbor");
    }
}
