package ai.arbor.gpu.protocol;

import java.util.List;

/**
 * How to pick each next token and when to stop, with OpenAI's and vLLM's meanings. The frontend fills defaults from
 * the request, then {@code generation_config.json}, then OpenAI's. Stop strings are matched on detokenized text by the
 * frontend's output processor; everything else is enforced by the engine.
 *
 * @param temperature 0 means greedy
 * @param topK        0 or less disables
 * @param seed        null for a random seed; equal seeds give equal outputs
 * @param logprobs    null for none, else the number of top alternatives (0..20) besides the chosen token
 */
public record SamplingParams(
        double temperature,
        double topP,
        int topK,
        double minP,
        Long seed,
        double presencePenalty,
        double frequencyPenalty,
        double repetitionPenalty,
        int maxTokens,
        int minTokens,
        boolean ignoreEos,
        int[] stopTokenIds,
        List<String> stop,
        Integer logprobs) {

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, maxTokens, 0, false, new int[0], List.of(), null);
    }

    public boolean isGreedy() { return temperature <= 0; }
}
