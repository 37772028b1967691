package ai.arbor.it.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.Devices;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * A worker pod runs one worker per GPU it asks for: the {@code nvidia.com/gpu} limit and the devices its
 * {@code arbor.device} lists ({@code cuda:0} … {@code cuda:N-1}, the pod's GPUs as the device plugin numbers them)
 * agree in every overlay, and each worker's KV transfer port (transfer-port + i) is declared and open between
 * workers only.
 */
class MultiGpuOverlayTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    @TempDir
    Path dir;

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void theGpusAPodAsksForAndItsWorkersAgree(String overlay) throws IOException {
        List<String> problems = problems(Kustomize.overlay(overlay), dir);
        assertTrue(problems.isEmpty(), overlay + ":\n" + String.join("\n", problems));
    }

    @Test
    void theMultiGpuOverlayRunsTwoWorkersOnTwoGpus() throws IOException {
        Manifests m = Kustomize.overlay("multi-gpu");
        assertEquals(2, gpus(worker(m)));
        assertEquals(List.of("cuda:0", "cuda:1"), devices(m, dir).names());
    }

    /** The check sees drift: the GPU count raised without the device list, or a worker's port left closed. */
    @Test
    void driftIsCaught() throws IOException {
        Manifests m = Kustomize.overlay("multi-gpu");
        assertTrue(problems(m, dir).isEmpty());
        Manifests threeGpus = replacingWorker(m, w -> ((ObjectNode) Manifests.arborContainer(w).path("resources")
                .path("limits")).put("nvidia.com/gpu", 3));
        assertFalse(problems(threeGpus, dir).isEmpty(), "3 GPUs, 2 devices");
        Manifests onePort = replacingWorker(m, w -> {
            var ports = (ArrayNode) Manifests.arborContainer(w).path("ports");
            for (int i = ports.size() - 1; i >= 0; i--) {
                if (ports.get(i).path("name").asText().equals("kv-transfer-1")) ports.remove(i);
            }
        });
        assertFalse(problems(onePort, dir).isEmpty(), "the second worker's transfer port is not declared");
    }

    /** Why the overlay's GPUs, devices and transfer ports disagree; empty when they agree. */
    static List<String> problems(Manifests m, Path dir) throws IOException {
        List<String> problems = new ArrayList<>();
        JsonNode worker = worker(m);
        int gpus = gpus(worker);
        Devices devices = devices(m, dir);
        List<Integer> expected = IntStream.range(0, gpus).boxed().toList();
        if (!devices.isCuda() || !devices.cudaIndices().equals(expected)) {
            problems.add("the pod asks for " + gpus + " GPU(s) (nvidia.com/gpu) but arbor.device is '" + devices
                    + "': it must list cuda:0 … cuda:" + (gpus - 1) + ", one worker per GPU");
        }
        int port = KvTransferPolicyTest.transferPort(m, dir);
        JsonNode ports = worker.path("ports");
        for (int i = 0; i < gpus; i++) {
            int p = port + i;
            if (!ports.valueStream().anyMatch(c -> c.path("containerPort").asInt() == p)) {
                problems.add("worker " + i + " takes KV transfers on " + p + " but the container declares no such port");
                continue;
            }
            for (String problem : KvTransferPolicyTest.problems(m, p)) problems.add("worker " + i + ": " + problem);
        }
        return problems;
    }

    private static JsonNode worker(Manifests m) {
        return Manifests.arborContainer(m.get("StatefulSet", "arbor", "arbor-worker"));
    }

    private static int gpus(JsonNode container) {
        return container.path("resources").path("limits").path("nvidia.com/gpu").asInt(0);
    }

    /** The worker's arbor.device as the node reads it: the environment over the ConfigMap's application.conf. */
    private static Devices devices(Manifests m, Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("application.conf"),
                ArborConfigMapTest.arborConfigMap(m).path("data").path("application.conf").asText());
        String device = ArborConfig.load(Map.of(), file, Manifests.env(worker(m))).getString("arbor.device");
        return Devices.parse("arbor.device", device);
    }

    private static Manifests replacingWorker(Manifests m, Consumer<JsonNode> change) {
        List<JsonNode> objects = new ArrayList<>();
        for (JsonNode o : m.objects()) {
            JsonNode copy = o.deepCopy();
            if (Manifests.kind(o).equals("StatefulSet") && Manifests.name(o).equals("arbor-worker")) change.accept(copy);
            objects.add(copy);
        }
        return new Manifests(m.overlay() + " changed", objects);
    }
}
