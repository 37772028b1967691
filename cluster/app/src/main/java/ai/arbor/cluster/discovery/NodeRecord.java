package ai.arbor.cluster.discovery;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * What a node tells etcd about itself: where Pekko Management (the bootstrap contact point) and remoting listen, its
 * HTTP port (frontends) and its roles.
 */
public record NodeRecord(String host, int managementPort, int remotingPort, int httpPort, List<String> roles) {
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public NodeRecord {
        roles = List.copyOf(roles);
    }

    /** {@code host:remotingPort}, unique per node and stable across its restarts. */
    public String address() {
        return host + ":" + remotingPort;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static NodeRecord fromJson(String json) {
        try {
            return JSON.readValue(json, NodeRecord.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a node record: " + json, e);
        }
    }
}
