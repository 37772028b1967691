package ai.arbor.gpu.protocol;

import java.util.List;

/**
 * What one engine step produced for one request: the new token ids (usually one), their logprobs when asked, and on
 * the last output the finish reason.
 *
 * @param cachedTokens prompt tokens served from the prefix cache when the request was scheduled
 */
public record RequestOutput(String requestId, int[] newTokenIds, List<TokenLogprobs> logprobs, boolean finished,
                            FinishReason finishReason, int promptTokens, int cachedTokens, int outputTokens) {}
