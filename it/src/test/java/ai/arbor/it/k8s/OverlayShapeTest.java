package ai.arbor.it.k8s;

import static ai.arbor.it.k8s.Manifests.podSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** What the issue asks of each overlay: the lab's single node and NodePort, production's HA, the workers' needs. */
class OverlayShapeTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    static int replicas(Manifests m, String kind, String ns, String name) {
        return m.get(kind, ns, name).path("spec").path("replicas").asInt(1);
    }

    static JsonNode container(JsonNode workload, String name) {
        for (JsonNode c : podSpec(workload).path("containers")) if (c.path("name").asText().equals(name)) return c;
        throw new AssertionError(Manifests.id(workload) + " has no container " + name);
    }

    static String env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) if (e.path("name").asText().equals(name)) return e.path("value").asText();
        throw new AssertionError("container " + container.path("name").asText() + " has no env " + name);
    }

    @Test
    void labIsOneEtcdOneFrontendTwoWorkersOnNodePort30200() {
        Manifests lab = Kustomize.overlay("lab");
        assertEquals(1, replicas(lab, "StatefulSet", "etcd-system", "etcd"));
        assertEquals(1, replicas(lab, "StatefulSet", "nats-system", "nats"));
        assertEquals(1, replicas(lab, "Deployment", "arbor", "arbor-frontend"));
        assertEquals(2, replicas(lab, "StatefulSet", "arbor", "arbor-worker"));
        JsonNode svc = lab.get("Service", "arbor", "arbor-frontend").path("spec");
        assertEquals("NodePort", svc.path("type").asText());
        assertEquals(30200, svc.path("ports").get(0).path("nodePort").asInt());
    }

    @Test
    void productionIsHighlyAvailable() {
        Manifests prod = Kustomize.overlay("production");
        int etcd = replicas(prod, "StatefulSet", "etcd-system", "etcd");
        assertEquals(3, etcd);
        String initialCluster = env(container(prod.get("StatefulSet", "etcd-system", "etcd"), "etcd"), "ETCD_INITIAL_CLUSTER");
        for (int i = 0; i < etcd; i++) assertTrue(initialCluster.contains("etcd-" + i + "=http://etcd-" + i + ".etcd-headless."), initialCluster);
        assertEquals(etcd, initialCluster.split(",").length, "ETCD_INITIAL_CLUSTER lists every member, no more: " + initialCluster);

        JsonNode nats = prod.get("StatefulSet", "nats-system", "nats");
        int natsReplicas = nats.path("spec").path("replicas").asInt();
        assertEquals(3, natsReplicas);
        String natsConf = prod.objects().stream()
                .filter(o -> Manifests.kind(o).equals("ConfigMap") && Manifests.name(o).startsWith("nats-config"))
                .findFirst().orElseThrow().path("data").path("nats.conf").asText();
        Matcher route = Pattern.compile("nats://nats-(\\d)\\.nats-headless").matcher(natsConf);
        int routes = 0;
        while (route.find()) routes++;
        assertEquals(natsReplicas, routes, "a route to each NATS server");
        assertTrue(natsConf.contains("jetstream"), "JetStream on");
        JsonNode claim = nats.path("spec").path("volumeClaimTemplates").get(0);
        assertEquals("jetstream", claim.path("metadata").path("name").asText());
        assertEquals("/data", container(nats, "nats").path("volumeMounts").valueStream()
                .filter(v -> v.path("name").asText().equals("jetstream")).findFirst().orElseThrow().path("mountPath").asText());
        assertTrue(natsConf.contains("store_dir: /data/"), "JetStream stores on the persistent volume");

        assertTrue(replicas(prod, "Deployment", "arbor", "arbor-frontend") >= 2);
        assertTrue(prod.get("HorizontalPodAutoscaler", "arbor", "arbor-frontend").path("spec").path("minReplicas").asInt() >= 2);
        assertEquals("LoadBalancer", prod.get("Service", "arbor", "arbor-frontend").path("spec").path("type").asText());

        JsonNode workers = podSpec(prod.get("StatefulSet", "arbor", "arbor-worker"));
        assertTrue(workers.path("topologySpreadConstraints").valueStream()
                .anyMatch(t -> t.path("whenUnsatisfiable").asText().equals("DoNotSchedule")
                        && t.path("topologyKey").asText().equals("kubernetes.io/hostname")), "workers spread across nodes");
        assertTrue(workers.path("affinity").path("podAntiAffinity").has("requiredDuringSchedulingIgnoredDuringExecution"));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void workersHaveAGpuAndTheModelCache(String overlay) {
        JsonNode worker = Kustomize.overlay(overlay).get("StatefulSet", "arbor", "arbor-worker");
        JsonNode arbor = container(worker, "arbor");
        // one GPU a pod, but two in multi-gpu (MultiGpuOverlayTest: its workers, one per GPU, agree with the count)
        assertEquals(overlay.equals("multi-gpu") ? "2" : "1", arbor.path("resources").path("limits").path("nvidia.com/gpu").asText());
        // no IPC_LOCK: the CUDA backend pins no host memory; PodSecurityTest checks the rest of the security context
        assertTrue(arbor.path("securityContext").path("capabilities").path("add").isMissingNode());
        assertTrue(arbor.path("volumeMounts").valueStream().anyMatch(v -> v.path("name").asText().equals("model-cache")));
        assertEquals("worker", env(arbor, "ARBOR_ROLES"));
        assertEquals("Parallel", worker.path("spec").path("podManagementPolicy").asText(), "workers start as a gang");
        assertTrue(podSpec(worker).has("topologySpreadConstraints"));
        assertTrue(Kustomize.overlay(overlay).find("PodDisruptionBudget", "arbor", "arbor-worker").isPresent());
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void arborNodesWaitForEtcdAndNatsAndProbeManagement(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        for (JsonNode w : List.of(m.get("Deployment", "arbor", "arbor-frontend"), m.get("StatefulSet", "arbor", "arbor-worker"))) {
            String init = podSpec(w).path("initContainers").toString();
            assertTrue(init.contains("etcd.etcd-system") && init.contains("/health"), Manifests.id(w) + " does not wait for etcd");
            assertTrue(init.contains("nats.nats-system") && init.contains("/healthz"), Manifests.id(w) + " does not wait for NATS");
            JsonNode arbor = container(w, "arbor");
            assertEquals("/ready", arbor.path("readinessProbe").path("httpGet").path("path").asText());
            assertEquals("management", arbor.path("readinessProbe").path("httpGet").path("port").asText());
            assertEquals("/alive", arbor.path("livenessProbe").path("httpGet").path("path").asText());
        }
        // a frontend's /health is 200 only while a worker serves its model: it gates the frontend's start-up
        JsonNode startup = container(m.get("Deployment", "arbor", "arbor-frontend"), "arbor").path("startupProbe").path("httpGet");
        assertEquals("/health", startup.path("path").asText());
        assertEquals("http", startup.path("port").asText());
    }
}
