package ai.arbor.gpu.protocol;


/** A tokenized request. {@code promptTokenIds} may already hold generated tokens when a request migrates. */
public record EngineRequest(String requestId, int[] promptTokenIds, SamplingParams sampling) {}
