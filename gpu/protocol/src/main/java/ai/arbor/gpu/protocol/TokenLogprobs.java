package ai.arbor.gpu.protocol;

/** The chosen token's log-probability and the top alternatives (most likely first) at one position. */
public record TokenLogprobs(int tokenId, float logprob, int[] topTokenIds, float[] topLogprobs) {}
