package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Sampling parameters every benchmark request carries, as {@code vllm bench serve}'s {@code --temperature},
 * {@code --top-p} and {@code --top-k}; a null one is left out of the request (the server's default applies).
 */
public record RequestSampling(Double temperature, Double topP, Integer topK) {
    public static final RequestSampling NONE = new RequestSampling(null, null, null);

    /** Checks the values as the server would, naming the option that is wrong. */
    public RequestSampling {
        if (temperature != null && !(temperature >= 0)) {
            throw new BenchException("--temperature must be 0 or more, not " + temperature);
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw new BenchException("--top-p must be in (0, 1], not " + topP);
        }
        if (topK != null && topK < -1) {
            throw new BenchException("--top-k must be -1 (off) or more, not " + topK);
        }
    }

    void addTo(ObjectNode body) {
        if (temperature != null) body.put("temperature", temperature);
        if (topP != null) body.put("top_p", topP);
        if (topK != null) body.put("top_k", topK);
    }

    /** For the report's header: "temperature 0.7, top_p 0.9", or "server defaults". */
    String describe() {
        StringBuilder s = new StringBuilder();
        if (temperature != null) s.append("temperature ").append(temperature);
        if (topP != null) s.append(s.length() > 0 ? ", " : "").append("top_p ").append(topP);
        if (topK != null) s.append(s.length() > 0 ? ", " : "").append("top_k ").append(topK);
        return s.length() == 0 ? "server defaults" : s.toString();
    }
}
