package ai.arbor.it.k8s;

import static ai.arbor.it.k8s.Manifests.containers;
import static ai.arbor.it.k8s.Manifests.id;
import static ai.arbor.it.k8s.Manifests.kind;
import static ai.arbor.it.k8s.Manifests.name;
import static ai.arbor.it.k8s.Manifests.namespace;
import static ai.arbor.it.k8s.Manifests.podSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.config.EnvironmentVariables;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The security settings of the rendered manifests: Pod Security "restricted" where the namespaces enforce it (and the
 * same container rules for every Arbor pod), NetworkPolicies that let only Arbor's pods reach etcd, NATS, remoting and
 * management, credentials from Secrets the overlay never renders, and an image that listens beyond loopback.
 */
class PodSecurityTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;
    /** The volume types Pod Security "restricted" admits. */
    static final Set<String> RESTRICTED_VOLUMES = Set.of("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
            "persistentVolumeClaim", "projected", "secret");

    /** Violations of "restricted" in a pod template; {@code allowedHostPaths} names hostPath volumes to let pass. */
    static List<String> restrictedViolations(JsonNode workload, Set<String> allowedHostPaths) {
        List<String> v = new ArrayList<>();
        JsonNode pod = podSpec(workload);
        for (String host : List.of("hostNetwork", "hostPID", "hostIPC")) if (pod.path(host).asBoolean()) v.add(host);
        for (JsonNode vol : pod.path("volumes")) {
            vol.fieldNames().forEachRemaining(f -> {
                if (f.equals("name")) return;
                if (!RESTRICTED_VOLUMES.contains(f) && !(f.equals("hostPath") && allowedHostPaths.contains(vol.path("name").asText()))) {
                    v.add("volume " + vol.path("name").asText() + " is a " + f);
                }
            });
        }
        boolean podNonRoot = pod.path("securityContext").path("runAsNonRoot").asBoolean();
        String podSeccomp = pod.path("securityContext").path("seccompProfile").path("type").asText();
        if (pod.path("securityContext").path("runAsUser").asInt(1) == 0) v.add("pod runs as uid 0");
        for (JsonNode c : containers(pod)) {
            String n = "container " + c.path("name").asText() + ": ";
            JsonNode sc = c.path("securityContext");
            if (!(podNonRoot || sc.path("runAsNonRoot").asBoolean()) || sc.path("runAsNonRoot").asText().equals("false")) v.add(n + "may run as root");
            if (sc.path("runAsUser").asInt(1) == 0) v.add(n + "runs as uid 0");
            String seccomp = sc.path("seccompProfile").path("type").asText(podSeccomp);
            if (!seccomp.equals("RuntimeDefault") && !seccomp.equals("Localhost")) v.add(n + "seccomp profile '" + seccomp + "'");
            if (!sc.has("allowPrivilegeEscalation") || sc.path("allowPrivilegeEscalation").asBoolean()) v.add(n + "may escalate privileges");
            if (sc.path("privileged").asBoolean()) v.add(n + "privileged");
            if (sc.path("capabilities").path("drop").valueStream().noneMatch(d -> d.asText().equals("ALL"))) v.add(n + "does not drop ALL capabilities");
            sc.path("capabilities").path("add").forEach(a -> {
                if (!a.asText().equals("NET_BIND_SERVICE")) v.add(n + "adds " + a.asText());
            });
        }
        return v;
    }

    static String enforced(Manifests m, String namespace) {
        return m.get("Namespace", "", namespace).path("metadata").path("labels").path("pod-security.kubernetes.io/enforce").asText();
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void frontendEtcdAndNatsPodsAreRestrictedAndWorkersAsTightAsTheGpuAllows(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        assertEquals("restricted", enforced(m, "etcd-system"), overlay);
        assertEquals("restricted", enforced(m, "nats-system"), overlay);
        // the lab's model cache is a hostPath on its one node; production and multi-gpu (its PVC) enforce restricted
        boolean arborRestricted = enforced(m, "arbor").equals("restricted");
        assertEquals(!overlay.equals("lab"), arborRestricted, overlay + ": arbor namespace enforces " + enforced(m, "arbor"));
        assertEquals("restricted", m.get("Namespace", "", "arbor").path("metadata").path("labels").path("pod-security.kubernetes.io/warn").asText());
        Set<String> hostPaths = arborRestricted ? Set.of() : Set.of("model-cache");
        List<String> errors = new ArrayList<>();
        for (JsonNode w : List.of(m.get("Deployment", "arbor", "arbor-frontend"), m.get("StatefulSet", "arbor", "arbor-worker"),
                m.get("StatefulSet", "etcd-system", "etcd"), m.get("StatefulSet", "nats-system", "nats"))) {
            restrictedViolations(w, namespace(w).equals("arbor") ? hostPaths : Set.of()).forEach(e -> errors.add(id(w) + ": " + e));
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @Test
    void theCheckCatchesWhatRestrictedForbids() {
        JsonNode worker = Kustomize.overlay("production").get("StatefulSet", "arbor", "arbor-worker").deepCopy();
        var c = (com.fasterxml.jackson.databind.node.ObjectNode) podSpec(worker).path("containers").get(0).path("securityContext");
        c.put("allowPrivilegeEscalation", true);
        ((com.fasterxml.jackson.databind.node.ObjectNode) c.path("capabilities")).putArray("add").add("IPC_LOCK");
        c.put("runAsUser", 0);
        List<String> v = restrictedViolations(worker, Set.of());
        assertTrue(v.stream().anyMatch(e -> e.contains("escalate")) && v.stream().anyMatch(e -> e.contains("adds IPC_LOCK"))
                && v.stream().anyMatch(e -> e.contains("uid 0")), v.toString());
        assertTrue(restrictedViolations(Kustomize.overlay("lab").get("Deployment", "arbor", "arbor-frontend"), Set.of())
                .stream().anyMatch(e -> e.contains("model-cache is a hostPath")));
    }

    /** Ports only Arbor's own pods (and, for metrics ports, Prometheus) may reach, per namespace. */
    static final Map<String, Set<String>> PROTECTED = Map.of(
            "arbor", Set.of("management", "remoting"),
            "etcd-system", Set.of("client", "peer", "metrics"),
            "nats-system", Set.of("client", "cluster", "monitor", "prom-metrics"));

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void onlyArborPodsReachEtcdNatsRemotingAndManagement(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        List<String> errors = new ArrayList<>();
        for (String ns : PROTECTED.keySet()) {
            boolean defaultDeny = m.ofKind("NetworkPolicy").stream().anyMatch(p -> namespace(p).equals(ns)
                    && p.path("spec").path("podSelector").isEmpty() && p.path("spec").path("ingress").isEmpty()
                    && p.path("spec").path("policyTypes").valueStream().anyMatch(t -> t.asText().equals("Ingress")));
            if (!defaultDeny) errors.add(ns + ": no default-deny ingress policy");
        }
        Set<String> inCluster = Set.of("arbor", "etcd", "nats");
        for (JsonNode p : m.ofKind("NetworkPolicy")) {
            String ns = namespace(p);
            for (JsonNode rule : p.path("spec").path("ingress")) {
                List<String> ports = rule.path("ports").valueStream().map(x -> x.path("port").asText()).toList();
                if (ports.isEmpty()) errors.add(id(p) + ": a rule for every port");
                if (!rule.has("from") || rule.path("from").isEmpty()) {
                    // open to the world: only the frontends' API
                    if (!ports.equals(List.of("http")) || !"frontend".equals(p.path("spec").path("podSelector").path("matchLabels")
                            .path("app.kubernetes.io/component").asText())) errors.add(id(p) + ": ports " + ports + " open to everyone");
                    continue;
                }
                for (JsonNode peer : rule.path("from")) {
                    String peerNs = peer.has("namespaceSelector")
                            ? peer.path("namespaceSelector").path("matchLabels").path("kubernetes.io/metadata.name").asText("*") : ns;
                    String peerName = peer.path("podSelector").path("matchLabels").path("app.kubernetes.io/name").asText("*");
                    boolean monitoring = peerNs.equals("monitoring") && !peer.has("podSelector");
                    boolean ours = !peerNs.equals("*") && !peerNs.equals("monitoring") && inCluster.contains(peerName);
                    if (peer.has("ipBlock") || !(ours || monitoring)) errors.add(id(p) + ": admits " + peer);
                    if (monitoring && !ports.stream().allMatch(x -> x.equals("management") || x.equals("metrics") || x.equals("prom-metrics"))) {
                        errors.add(id(p) + ": Prometheus may reach " + ports);
                    }
                }
            }
        }
        // and Arbor's pods can reach what they need
        for (String[] need : new String[][]{{"etcd-system", "client"}, {"nats-system", "client"}, {"arbor", "remoting"}, {"arbor", "management"}}) {
            boolean allowed = m.ofKind("NetworkPolicy").stream().filter(p -> namespace(p).equals(need[0]))
                    .flatMap(p -> p.path("spec").path("ingress").valueStream())
                    .anyMatch(r -> r.path("ports").valueStream().anyMatch(x -> x.path("port").asText().equals(need[1]))
                            && r.path("from").valueStream().anyMatch(f -> f.path("podSelector").path("matchLabels")
                            .path("app.kubernetes.io/name").asText().equals("arbor")));
            if (!allowed) errors.add(need[0] + ": Arbor's pods cannot reach port " + need[1]);
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @Test
    void productionTakesTlsAndCredentialsFromSecretsItNeverRenders() {
        Manifests m = Kustomize.overlay("production");
        assertTrue(m.ofKind("Secret").isEmpty(), "applying the overlay would overwrite the real Secrets");
        for (JsonNode c : m.arborContainers()) {
            Map<String, JsonNode> env = new java.util.LinkedHashMap<>();
            c.path("env").forEach(e -> env.put(e.path("name").asText(), e));
            assertTrue(env.get("ARBOR_ETCD").path("value").asText().startsWith("https://"), "etcd over TLS");
            assertTrue(env.get("ARBOR_NATS").path("value").asText().startsWith("tls://"), "NATS over TLS");
            for (String secret : List.of("ARBOR_NATS_USER", "ARBOR_NATS_PASSWORD")) {
                assertEquals("arbor-credentials", env.get(secret).path("valueFrom").path("secretKeyRef").path("name").asText(), secret);
            }
            for (String file : List.of("ARBOR_REMOTING_TLS_KEY_FILE", "ARBOR_REMOTING_TLS_CERT_FILE", "ARBOR_REMOTING_TLS_CA_FILE",
                    "ARBOR_ETCD_TLS_KEY_FILE", "ARBOR_ETCD_TLS_CERT_FILE", "ARBOR_ETCD_TLS_CA_FILE", "ARBOR_NATS_TLS_CA_FILE")) {
                assertTrue(env.get(file).path("value").asText().startsWith("/etc/arbor/tls/"), file + " names the mounted Secret");
                assertTrue(EnvironmentVariables.MAPPING.containsKey(file), file + " is a variable Arbor reads");
            }
        }
        JsonNode frontend = containers(podSpec(m.get("Deployment", "arbor", "arbor-frontend"))).stream()
                .filter(c -> c.path("name").asText().equals("arbor")).findFirst().orElseThrow();
        assertTrue(frontend.path("env").valueStream().anyMatch(e -> e.path("name").asText().equals("ARBOR_API_KEYS_FILE")
                && e.path("value").asText().startsWith("/etc/arbor/api-keys/")), "the API takes the keys of the arbor-api-keys Secret");
        for (JsonNode w : List.of(m.get("Deployment", "arbor", "arbor-frontend"), m.get("StatefulSet", "arbor", "arbor-worker"))) {
            assertTrue(podSpec(w).path("volumes").valueStream().anyMatch(v -> v.path("secret").path("secretName").asText().equals("arbor-node-tls")), id(w));
        }
        JsonNode etcd = containers(podSpec(m.get("StatefulSet", "etcd-system", "etcd"))).get(0);
        assertTrue(etcd.path("env").valueStream().anyMatch(e -> e.path("name").asText().equals("ETCD_CLIENT_CERT_AUTH")
                && e.path("value").asText().equals("true")), "etcd demands client certificates");
        String natsConf = m.get("ConfigMap", "nats-system", name(m.ofKind("ConfigMap").stream()
                .filter(c -> namespace(c).equals("nats-system")).findFirst().orElseThrow())).path("data").path("nats.conf").asText();
        assertTrue(natsConf.contains("authorization") && natsConf.contains("$ARBOR_NATS_PASSWORD") && natsConf.contains("tls {"), natsConf);
    }

    @Test
    void theImageListensOnEveryInterface() throws IOException {
        String dockerfile = Files.readString(Kustomize.repoRoot().resolve("Dockerfile"));
        assertTrue(dockerfile.matches("(?s).*ARBOR_HOST=0\\.0\\.0\\.0.*"), "the image's server binds 127.0.0.1 only");
        assertEquals("arbor.host", EnvironmentVariables.MAPPING.get("ARBOR_HOST"));
        assertFalse(kind(Kustomize.overlay("lab").get("Namespace", "", "arbor")).isEmpty());
    }
}
