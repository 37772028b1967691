package ai.arbor.it.k8s;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.config.ArborConfig;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Workers pull and push KV blocks over their transfer port: the overlays' NetworkPolicies must let worker pods reach
 * each other's transfer port (else every pull and every disaggregated prefill fails, and prompts are computed again),
 * and nothing else reach it (it carries prompts' KV). The port is the one the worker process listens on: the
 * ConfigMap's {@code arbor.kv-sharing.transfer-port}, under the container's environment.
 */
class KvTransferPolicyTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    @TempDir
    Path dir;

    /** The transfer port a worker pod of the overlay listens on. */
    static int transferPort(Manifests m, Path dir) throws IOException {
        JsonNode worker = Manifests.arborContainer(m.get("StatefulSet", "arbor", "arbor-worker"));
        Path file = Files.writeString(dir.resolve("application.conf"),
                ArborConfigMapTest.arborConfigMap(m).path("data").path("application.conf").asText());
        // the key KvSharingSettings reads (ArborSettings as a whole would read the pods' mounted key files)
        return ArborConfig.load(Map.of(), file, Manifests.env(worker)).getInt("arbor.kv-sharing.transfer-port");
    }

    /** Why the overlay's policies get the transfer port wrong; empty when right. */
    static List<String> problems(Manifests m, int port) {
        JsonNode workers = m.get("StatefulSet", "arbor", "arbor-worker");
        JsonNode frontends = m.get("Deployment", "arbor", "arbor-frontend");
        Map<String, String> worker = Manifests.templateLabels(workers);
        JsonNode ports = Manifests.arborContainer(workers).path("ports");
        NetworkPolicyRules rules = NetworkPolicyRules.of(m, "arbor");
        List<String> problems = new java.util.ArrayList<>();
        if (!rules.admits(new NetworkPolicyRules.Source("arbor", worker), worker, ports, port)) {
            problems.add("no NetworkPolicy admits worker -> worker on the KV transfer port " + port);
        }
        List<NetworkPolicyRules.Source> others = List.of(
                new NetworkPolicyRules.Source("arbor", Manifests.templateLabels(frontends)),
                new NetworkPolicyRules.Source("monitoring", Map.of()),
                new NetworkPolicyRules.Source("default", Map.of()));
        for (NetworkPolicyRules.Source s : others) {
            if (rules.admits(s, worker, ports, port)) problems.add("the KV transfer port " + port + " is open to " + s);
        }
        return problems;
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void workersReachEachOthersTransferPortAndNothingElseDoes(String overlay) throws IOException {
        Manifests m = Kustomize.overlay(overlay);
        int port = transferPort(m, dir);
        assertNotEquals(0, port, overlay + ": transfer-port 0 picks a random port, which no NetworkPolicy can open");
        JsonNode ports = Manifests.arborContainer(m.get("StatefulSet", "arbor", "arbor-worker")).path("ports");
        assertTrue(ports.valueStream().anyMatch(p -> p.path("containerPort").asInt() == port),
                overlay + ": the worker container declares no port " + port);
        List<String> problems = problems(m, port);
        assertTrue(problems.isEmpty(), overlay + ":\n" + String.join("\n", problems));
    }

    /** The check sees a missing rule: production without its arbor-kv-transfer policy. */
    @Test
    void aMissingTransferPolicyIsCaught() throws IOException {
        Manifests m = Kustomize.overlay("production");
        int port = transferPort(m, dir);
        Manifests without = new Manifests("production without arbor-kv-transfer", m.objects().stream()
                .filter(o -> !(Manifests.kind(o).equals("NetworkPolicy") && Manifests.name(o).equals("arbor-kv-transfer")))
                .toList());
        assertFalse(problems(without, port).isEmpty());
        assertTrue(problems(m, port).isEmpty());
    }
}
