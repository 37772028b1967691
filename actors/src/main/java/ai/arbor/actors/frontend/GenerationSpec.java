package ai.arbor.actors.frontend;

import ai.arbor.gpu.protocol.SamplingParams;
import java.util.List;

/**
 * One API request after parsing and tokenizing: what the per-request actor runs. {@code n} choices run as {@code n}
 * engine requests sharing the prompt; with a seed, choice i uses {@code seed + i} so that choices differ yet repeat.
 */
public record GenerationSpec(String requestId, int[] promptTokenIds, SamplingParams sampling, int n,
                             List<String> stop) {
    public GenerationSpec {
        if (n < 1) throw new IllegalArgumentException("n must be >= 1");
    }

    /** The engine's id for choice {@code i}. */
    public String engineRequestId(int i) { return n == 1 ? requestId : requestId + "-" + i; }

    /** The choice that {@code engineRequestId} belongs to, or -1 if none of this request's. */
    public int choiceOf(String engineRequestId) {
        if (n == 1) return requestId.equals(engineRequestId) ? 0 : -1;
        int dash = engineRequestId.lastIndexOf('-');
        if (dash != requestId.length() || !engineRequestId.startsWith(requestId)) return -1;
        try {
            int i = Integer.parseInt(engineRequestId, dash + 1, engineRequestId.length(), 10);
            return i >= 0 && i < n ? i : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
