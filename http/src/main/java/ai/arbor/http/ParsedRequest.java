package ai.arbor.http;

import ai.arbor.gpu.protocol.SamplingParams;
import java.util.List;

/**
 * A validated, tokenized chat or completion request. A completion may carry several prompts; each yields {@code n}
 * choices, numbered prompt-major as OpenAI does.
 *
 * @param topLogprobs null when no logprobs were asked for
 */
record ParsedRequest(boolean chat, ServedModel model, List<int[]> prompts, SamplingParams sampling, int n,
                     boolean stream, boolean includeUsage, List<String> stop, Integer topLogprobs) {}
