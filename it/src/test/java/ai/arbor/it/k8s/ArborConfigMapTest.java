package ai.arbor.it.k8s;

import static ai.arbor.it.k8s.Manifests.podSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.cluster.node.NodeSettings;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** The arbor-config ConfigMap is a configuration Arbor's own loader accepts, and it agrees with the manifests. */
class ArborConfigMapTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    @TempDir
    Path dir;

    /** The ConfigMap the Arbor pods mount, found through the pods' volume (its name carries kustomize's hash). */
    static JsonNode arborConfigMap(Manifests m) {
        JsonNode worker = m.get("StatefulSet", "arbor", "arbor-worker");
        for (JsonNode v : podSpec(worker).path("volumes")) {
            if (v.path("name").asText().equals("config")) return m.get("ConfigMap", "arbor", v.path("configMap").path("name").asText());
        }
        throw new AssertionError(m.overlay() + ": arbor-worker mounts no 'config' volume");
    }

    static Config load(Manifests m, Path dir) throws IOException {
        String text = arborConfigMap(m).path("data").path("application.conf").asText(null);
        assertTrue(text != null && !text.isBlank(), m.overlay() + ": arbor-config has no application.conf");
        Path file = Files.writeString(dir.resolve("application.conf"), text);
        // no environment: what the file says, on top of Arbor's reference.conf defaults
        return ArborConfig.load(Map.of(), file, Map.of());
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void configMapLoadsThroughArborsLoader(String overlay) throws IOException {
        Config config = load(Kustomize.overlay(overlay), dir);
        ArborSettings settings = ArborSettings.from(config);
        NodeSettings node = NodeSettings.from(config);
        assertEquals("0.0.0.0", node.host(), "pods must listen on all interfaces");
        assertEquals(settings.port(), node.port());
        assertFalse(node.etcd().isEmpty());
    }

    /** A key Arbor does not define is ignored without a word: every key of the file must be in a reference.conf. */
    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyKeyOfTheFileIsOneArborDefines(String overlay) {
        Config file = ConfigFactory.parseString(arborConfigMap(Kustomize.overlay(overlay)).path("data").path("application.conf").asText());
        Config reference = ConfigFactory.defaultReference();
        List<String> unknown = file.entrySet().stream().map(Map.Entry::getKey).filter(k -> !reference.hasPath(k)).sorted().toList();
        assertTrue(unknown.isEmpty(), overlay + ": application.conf sets keys Arbor does not read: " + unknown);
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void portsInTheConfigAreThePortsThePodsOpen(String overlay) throws IOException {
        Manifests m = Kustomize.overlay(overlay);
        NodeSettings node = NodeSettings.from(load(m, dir));
        JsonNode frontend = podSpec(m.get("Deployment", "arbor", "arbor-frontend")).path("containers").get(0);
        JsonNode worker = podSpec(m.get("StatefulSet", "arbor", "arbor-worker")).path("containers").get(0);
        assertEquals(node.port(), containerPort(frontend, "http"), "frontend http port");
        assertEquals(node.managementPort(), containerPort(frontend, "management"), "frontend management port");
        assertEquals(node.managementPort(), containerPort(worker, "management"), "worker management port");
        assertEquals(node.remotingPort(), containerPort(frontend, "remoting"), "frontend remoting port");
        assertEquals(node.remotingPort(), containerPort(worker, "remoting"), "worker remoting port");
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void etcdAndNatsUrlsNameServicesOfTheOverlay(String overlay) throws IOException {
        Manifests m = Kustomize.overlay(overlay);
        NodeSettings node = NodeSettings.from(load(m, dir));
        for (URI etcd : node.etcd()) assertServiceHasPort(m, etcd);
        assertServiceHasPort(m, URI.create(node.nats()));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void workersGetLongerToStopThanTheyTakeToDrain(String overlay) throws IOException {
        Manifests m = Kustomize.overlay(overlay);
        NodeSettings node = NodeSettings.from(load(m, dir));
        long grace = podSpec(m.get("StatefulSet", "arbor", "arbor-worker")).path("terminationGracePeriodSeconds").asLong(30);
        assertTrue(grace > node.drainTimeout().toSeconds() + 10,
                "terminationGracePeriodSeconds " + grace + " leaves no room after drain-timeout " + node.drainTimeout());
    }

    /** Workers load the model and frontends read its tokenizer and chat template: every Arbor pod mounts it. */
    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyArborContainerMountsTheModelDirectory(String overlay) throws IOException {
        Manifests m = Kustomize.overlay(overlay);
        Path model = Path.of(load(m, dir).getString("arbor.model"));
        assertTrue(model.isAbsolute(), "arbor.model must be an absolute path in a pod: " + model);
        for (JsonNode c : m.arborContainers()) {
            boolean mounted = c.path("volumeMounts").valueStream().anyMatch(v -> model.startsWith(Path.of(v.path("mountPath").asText())));
            assertTrue(mounted, overlay + ": container " + c.path("name").asText() + " has no volume mounted above " + model);
        }
    }

    static int containerPort(JsonNode container, String name) {
        for (JsonNode p : container.path("ports")) if (p.path("name").asText().equals(name)) return p.path("containerPort").asInt();
        throw new AssertionError("container " + container.path("name").asText() + " opens no port named " + name);
    }

    /** host must be SERVICE.NAMESPACE[.svc[.cluster.local]] of a Service in the overlay with that port. */
    static void assertServiceHasPort(Manifests m, URI url) {
        String[] parts = url.getHost().split("\\.");
        assertTrue(parts.length >= 2, url + ": expected SERVICE.NAMESPACE.svc.cluster.local");
        JsonNode svc = m.get("Service", parts[1], parts[0]);
        boolean hasPort = svc.path("spec").path("ports").valueStream().anyMatch(p -> p.path("port").asInt() == url.getPort());
        assertTrue(hasPort, url + ": Service " + parts[1] + "/" + parts[0] + " has no port " + url.getPort());
    }
}
