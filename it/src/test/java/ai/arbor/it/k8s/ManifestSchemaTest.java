package ai.arbor.it.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.api.Test;

/** Every object of every overlay parses into the Kubernetes API's typed model, with no unknown field. */
class ManifestSchemaTest {
    static final List<String> OVERLAYS = Kustomize.OVERLAYS;

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void everyObjectMatchesItsApiSchema(String overlay) {
        Manifests m = Kustomize.overlay(overlay);
        assertFalse(m.objects().isEmpty(), overlay + " rendered nothing");
        List<String> errors = new ArrayList<>();
        for (JsonNode o : m.objects()) {
            try {
                StrictKubernetesModel.parse(o);
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
        }
        assertTrue(errors.isEmpty(), overlay + ":\n" + String.join("\n", errors));
    }

    @ParameterizedTest
    @FieldSource("OVERLAYS")
    void objectsAreUniqueAndNamed(String overlay) {
        Set<String> seen = new HashSet<>();
        for (JsonNode o : Kustomize.overlay(overlay).objects()) {
            assertFalse(Manifests.name(o).isBlank(), overlay + ": an object without a name: " + o);
            assertTrue(seen.add(Manifests.id(o)), overlay + ": " + Manifests.id(o) + " appears twice");
        }
    }

    @Test
    void aMisspelledFieldFailsValidation() {
        JsonNode deployment = Kustomize.overlay("lab").get("Deployment", "arbor", "arbor-frontend").deepCopy();
        ((ObjectNode) deployment.path("spec")).put("replica", 2);
        var e = assertThrows(IllegalArgumentException.class, () -> StrictKubernetesModel.parse(deployment));
        assertTrue(e.getMessage().contains("\"replica\""), e.getMessage());

        JsonNode probe = Kustomize.overlay("lab").get("Deployment", "arbor", "arbor-frontend").deepCopy();
        ((ObjectNode) probe.path("spec").path("template").path("spec").path("containers").get(0).path("readinessProbe"))
                .putObject("httpGett");
        assertThrows(IllegalArgumentException.class, () -> StrictKubernetesModel.parse(probe));
    }

    @Test
    void aValueOfTheWrongTypeFailsValidation() {
        JsonNode statefulSet = Kustomize.overlay("lab").get("StatefulSet", "arbor", "arbor-worker").deepCopy();
        ((ObjectNode) statefulSet.path("spec")).put("replicas", "two");
        assertThrows(IllegalArgumentException.class, () -> StrictKubernetesModel.parse(statefulSet));
    }

    @Test
    void anUnknownKindFailsValidation() {
        JsonNode o = Kustomize.parse("apiVersion: nvidia.com/v1alpha1\nkind: DynamoGraphDeployment\nmetadata: {name: x}\n").get(0);
        var e = assertThrows(IllegalArgumentException.class, () -> StrictKubernetesModel.parse(o));
        assertTrue(e.getMessage().contains("no schema"), e.getMessage());
    }

    @Test
    void bothOverlaysRenderTheSameKindsOfPieces() {
        for (String kind : List.of("Namespace", "StatefulSet", "Deployment", "Service", "ConfigMap", "PodMonitor",
                "PodDisruptionBudget", "HorizontalPodAutoscaler", "ServiceAccount", "NetworkPolicy")) {
            for (String overlay : OVERLAYS) {
                assertFalse(Kustomize.overlay(overlay).ofKind(kind).isEmpty(), overlay + " has no " + kind);
            }
        }
        assertEquals(Set.of("arbor", "nats-system", "etcd-system"),
                Set.copyOf(Kustomize.overlay("lab").ofKind("Namespace").stream().map(Manifests::name).toList()));
    }
}
