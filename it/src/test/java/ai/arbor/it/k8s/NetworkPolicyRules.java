package ai.arbor.it.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the rendered NetworkPolicies of one namespace let in, evaluated as the API defines it: a pod selected by no
 * Ingress policy takes everything; a selected pod takes a connection when some rule of a policy selecting it admits the
 * source and the port (no {@code from}: any source; no {@code ports}: any port; a named port is the target
 * container's port of that name). Only what the overlays use is supported: {@code matchLabels} selectors, pod and
 * namespace selectors; anything else fails loudly rather than being misread.
 */
record NetworkPolicyRules(String namespace, List<JsonNode> policies) {

    /** A connection's source: a pod of the overlay (its labels and namespace). */
    record Source(String namespace, Map<String, String> labels) {}

    static NetworkPolicyRules of(Manifests m, String namespace) {
        return new NetworkPolicyRules(namespace, m.ofKind("NetworkPolicy").stream()
                .filter(p -> Manifests.namespace(p).equals(namespace)).toList());
    }

    /** The policies whose podSelector selects {@code target} and that restrict its ingress. */
    List<JsonNode> selecting(Map<String, String> target) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : policies) {
            JsonNode types = p.path("spec").path("policyTypes");
            boolean ingress = types.isMissingNode() || types.valueStream().anyMatch(t -> t.asText().equals("Ingress"));
            if (ingress && matches(p.path("spec").path("podSelector"), target)) out.add(p);
        }
        return out;
    }

    /** The ingress rules that admit {@code port} (number) on a pod with {@code target} labels whose container ports are {@code ports}. */
    List<JsonNode> rulesAdmittingPort(Map<String, String> target, JsonNode containerPorts, int port) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : selecting(target)) {
            for (JsonNode rule : p.path("spec").path("ingress")) {
                if (rulePorts(rule, containerPorts, port)) out.add(rule);
            }
        }
        return out;
    }

    /** True when a connection from {@code source} to {@code port} of a {@code target} pod is let in. */
    boolean admits(Source source, Map<String, String> target, JsonNode containerPorts, int port) {
        if (selecting(target).isEmpty()) return true;
        for (JsonNode rule : rulesAdmittingPort(target, containerPorts, port)) {
            if (ruleSources(rule, source)) return true;
        }
        return false;
    }

    private static boolean rulePorts(JsonNode rule, JsonNode containerPorts, int port) {
        JsonNode ports = rule.path("ports");
        if (ports.isMissingNode() || ports.isEmpty()) return true;
        for (JsonNode p : ports) {
            if (!p.path("protocol").asText("TCP").equals("TCP")) continue;
            JsonNode value = p.path("port");
            if (value.isMissingNode()) return true;
            if (value.isInt()) {
                int end = p.path("endPort").asInt(value.asInt());
                if (port >= value.asInt() && port <= end) return true;
            } else {
                for (JsonNode c : containerPorts) {
                    if (c.path("name").asText().equals(value.asText()) && c.path("containerPort").asInt() == port) return true;
                }
            }
        }
        return false;
    }

    /** True when a rule's {@code from} takes {@code source}; rules of this namespace's policies. */
    boolean ruleSources(JsonNode rule, Source source) {
        JsonNode from = rule.path("from");
        if (from.isMissingNode() || from.isEmpty()) return true;
        for (JsonNode peer : from) {
            if (peer.has("ipBlock")) throw new UnsupportedOperationException("ipBlock peers: " + peer);
            JsonNode ns = peer.path("namespaceSelector");
            JsonNode pods = peer.path("podSelector");
            boolean nsOk = ns.isMissingNode() ? source.namespace().equals(namespace)
                    : matches(ns, Map.of("kubernetes.io/metadata.name", source.namespace()));
            boolean podOk = pods.isMissingNode() || matches(pods, source.labels());
            if (nsOk && podOk) return true;
        }
        return false;
    }

    /** A label selector; {} selects everything. */
    static boolean matches(JsonNode selector, Map<String, String> labels) {
        if (selector.has("matchExpressions")) throw new UnsupportedOperationException("matchExpressions: " + selector);
        for (var e : Manifests.strings(selector.path("matchLabels")).entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) return false;
        }
        return true;
    }
}
