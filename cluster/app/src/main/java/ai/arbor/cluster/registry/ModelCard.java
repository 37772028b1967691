package ai.arbor.cluster.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a worker serves, as published in etcd: the served model name, its KV cache geometry and context limit, the
 * worker's node address ({@code host:remotingPort}) and whether it is still loading ({@code STARTING}) or serving
 * ({@code READY}).
 */
public record ModelCard(String model, int blockSize, int kvBlocks, int maxContext, String worker, Status status) {
    public enum Status { STARTING, READY }

    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public ModelCard {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model card without a model name");
        if (worker == null || worker.isBlank()) throw new IllegalArgumentException("model card without a worker address");
        if (status == null) throw new IllegalArgumentException("model card without a status");
    }

    public static ModelCard starting(String model, String worker) {
        return new ModelCard(model, 0, 0, 0, worker, Status.STARTING);
    }

    public boolean ready() { return status == Status.READY; }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ModelCard fromJson(String json) {
        try {
            return JSON.readValue(json, ModelCard.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a model card: " + json, e);
        }
    }
}
