package ai.arbor.actors.frontend;

import ai.arbor.gpu.sample.SamplingParams;
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
}
