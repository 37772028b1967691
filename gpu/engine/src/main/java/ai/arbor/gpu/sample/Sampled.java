package ai.arbor.gpu.sample;

import ai.arbor.gpu.protocol.TokenLogprobs;

/** The token the sampler picked and, when asked for, its logprobs. */
public record Sampled(int tokenId, TokenLogprobs logprobs) {}
