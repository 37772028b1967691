package ai.arbor.gpu.sample;

/** The token the sampler picked and, when asked for, its logprobs. */
public record Sampled(int tokenId, TokenLogprobs logprobs) {}
