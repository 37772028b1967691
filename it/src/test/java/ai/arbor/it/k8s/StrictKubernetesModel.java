package ai.arbor.it.k8s;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import java.util.Map;

/**
 * Parses rendered objects into fabric8's typed Kubernetes models, strictly: a field the API does not have, or a value
 * of the wrong type, fails. fabric8's classes collect unknown fields in an {@code additionalProperties} map through
 * {@code @JsonAnySetter}; this mapper ignores those any-setters so {@code FAIL_ON_UNKNOWN_PROPERTIES} applies.
 */
final class StrictKubernetesModel {
    private StrictKubernetesModel() {}

    /** apiVersion/kind to typed model: every kind the manifests may use. Anything else is an error. */
    static final Map<String, Class<?>> TYPES = Map.ofEntries(
            Map.entry("v1/Namespace", io.fabric8.kubernetes.api.model.Namespace.class),
            Map.entry("v1/ConfigMap", io.fabric8.kubernetes.api.model.ConfigMap.class),
            Map.entry("v1/Service", io.fabric8.kubernetes.api.model.Service.class),
            Map.entry("v1/ServiceAccount", io.fabric8.kubernetes.api.model.ServiceAccount.class),
            Map.entry("v1/PersistentVolumeClaim", io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class),
            Map.entry("apps/v1/Deployment", io.fabric8.kubernetes.api.model.apps.Deployment.class),
            Map.entry("apps/v1/StatefulSet", io.fabric8.kubernetes.api.model.apps.StatefulSet.class),
            Map.entry("policy/v1/PodDisruptionBudget", io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class),
            Map.entry("autoscaling/v2/HorizontalPodAutoscaler", io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler.class),
            Map.entry("networking.k8s.io/v1/NetworkPolicy", io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class),
            Map.entry("rbac.authorization.k8s.io/v1/Role", io.fabric8.kubernetes.api.model.rbac.Role.class),
            Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", io.fabric8.kubernetes.api.model.rbac.RoleBinding.class),
            Map.entry("monitoring.coreos.com/v1/PodMonitor", io.fabric8.openshift.api.model.monitoring.v1.PodMonitor.class));

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(Annotated a) {
                    return Boolean.FALSE;
                }

                @Override
                public JsonIgnoreProperties.Value findPropertyIgnoralByName(MapperConfig<?> config, Annotated a) {
                    // keep explicit ignorals, drop ignoreUnknown
                    JsonIgnoreProperties.Value v = super.findPropertyIgnoralByName(config, a);
                    return v.withoutIgnoreUnknown();
                }
            });

    /** The typed object; throws IllegalArgumentException naming the object and the offending field. */
    static Object parse(JsonNode object) {
        String key = object.path("apiVersion").asText() + "/" + object.path("kind").asText();
        Class<?> type = TYPES.get(key);
        if (type == null) {
            throw new IllegalArgumentException(Manifests.id(object) + ": no schema for " + key + " (known: " + TYPES.keySet() + ")");
        }
        try {
            return MAPPER.treeToValue(object, type);
        } catch (Exception e) {
            throw new IllegalArgumentException(Manifests.id(object) + " does not match the " + key + " schema: " + e.getMessage(), e);
        }
    }
}
