package ai.arbor.gpu.protocol;


/**
 * A tokenized request. {@code promptTokenIds} may already hold generated tokens when a request migrates: the last
 * {@code generatedTokens} of them, which an output constraint must replay before it continues.
 */
public record EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling, int generatedTokens) {
    public EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling) {
        this(requestId, promptTokenIds, sampling, 0);
    }
}
