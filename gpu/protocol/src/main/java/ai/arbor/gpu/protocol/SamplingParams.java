package ai.arbor.gpu.protocol;

import java.util.List;
import java.util.Map;

/**
 * How to pick each next token and when to stop, with OpenAI's and vLLM's meanings. The frontend fills defaults from
 * the request, then {@code generation_config.json}, then OpenAI's. Stop strings are matched on detokenized text by the
 * frontend's output processor; everything else is enforced by the engine. Build one with {@link #builder()}; derive
 * one with {@link #toBuilder()} or a wither.
 *
 * @param temperature 0 means greedy
 * @param topK        0 or less disables
 * @param seed        null for a random seed; equal seeds give equal outputs
 * @param logprobs    null for none, else the number of top alternatives (0..20) besides the chosen token
 * @param constraint  null for free text, else what the output must match (structured outputs)
 * @param logitBias   null or empty for none, else a bias added to the logit of each token id (OpenAI's {@code logit_bias})
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
        Integer logprobs,
        OutputConstraint constraint,
        Map<Integer, Float> logitBias) {

    /** Unconstrained output. */
    public SamplingParams(double temperature, double topP, int topK, double minP, Long seed, double presencePenalty,
                          double frequencyPenalty, double repetitionPenalty, int maxTokens, int minTokens,
                          boolean ignoreEos, int[] stopTokenIds, List<String> stop, Integer logprobs) {
        this(temperature, topP, topK, minP, seed, presencePenalty, frequencyPenalty, repetitionPenalty, maxTokens,
                minTokens, ignoreEos, stopTokenIds, stop, logprobs, null, null);
    }

    /** Output held to {@code constraint}, no logit bias. */
    public SamplingParams(double temperature, double topP, int topK, double minP, Long seed, double presencePenalty,
                          double frequencyPenalty, double repetitionPenalty, int maxTokens, int minTokens,
                          boolean ignoreEos, int[] stopTokenIds, List<String> stop, Integer logprobs,
                          OutputConstraint constraint) {
        this(temperature, topP, topK, minP, seed, presencePenalty, frequencyPenalty, repetitionPenalty, maxTokens,
                minTokens, ignoreEos, stopTokenIds, stop, logprobs, constraint, null);
    }

    public boolean hasLogitBias() { return logitBias != null && !logitBias.isEmpty(); }

    /** Greedy decoding of up to {@code maxTokens} tokens, everything else off. */
    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    /** OpenAI's defaults: temperature 1, no truncation, no penalties, 16 tokens, no stops, no logprobs. */
    public static Builder builder() { return new Builder(); }

    public Builder toBuilder() { return new Builder(this); }

    public SamplingParams withSeed(Long seed) { return toBuilder().seed(seed).build(); }

    public SamplingParams withMaxTokens(int maxTokens) { return toBuilder().maxTokens(maxTokens).build(); }

    public SamplingParams withMinTokens(int minTokens) { return toBuilder().minTokens(minTokens).build(); }

    /** These parameters with the output held to {@code c} (null: free text). */
    public SamplingParams withConstraint(OutputConstraint c) { return toBuilder().constraint(c).build(); }

    public boolean isGreedy() { return temperature <= 0; }

    /** Named setters for {@link SamplingParams}; every field starts at OpenAI's default. */
    public static final class Builder {
        private double temperature = 1;
        private double topP = 1;
        private int topK;
        private double minP;
        private Long seed;
        private double presencePenalty;
        private double frequencyPenalty;
        private double repetitionPenalty = 1;
        private int maxTokens = 16;
        private int minTokens;
        private boolean ignoreEos;
        private int[] stopTokenIds = new int[0];
        private List<String> stop = List.of();
        private Integer logprobs;
        private OutputConstraint constraint;
        private Map<Integer, Float> logitBias;

        private Builder() {}

        private Builder(SamplingParams p) {
            temperature = p.temperature;
            topP = p.topP;
            topK = p.topK;
            minP = p.minP;
            seed = p.seed;
            presencePenalty = p.presencePenalty;
            frequencyPenalty = p.frequencyPenalty;
            repetitionPenalty = p.repetitionPenalty;
            maxTokens = p.maxTokens;
            minTokens = p.minTokens;
            ignoreEos = p.ignoreEos;
            stopTokenIds = p.stopTokenIds;
            stop = p.stop;
            logprobs = p.logprobs;
            constraint = p.constraint;
            logitBias = p.logitBias;
        }

        public Builder temperature(double v) { temperature = v; return this; }

        public Builder topP(double v) { topP = v; return this; }

        public Builder topK(int v) { topK = v; return this; }

        public Builder minP(double v) { minP = v; return this; }

        public Builder seed(Long v) { seed = v; return this; }

        public Builder presencePenalty(double v) { presencePenalty = v; return this; }

        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }

        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }

        public Builder maxTokens(int v) { maxTokens = v; return this; }

        public Builder minTokens(int v) { minTokens = v; return this; }

        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }

        public Builder stopTokenIds(int[] v) { stopTokenIds = v; return this; }

        public Builder stop(List<String> v) { stop = v; return this; }

        public Builder logprobs(Integer v) { logprobs = v; return this; }

        public Builder constraint(OutputConstraint v) { constraint = v; return this; }

        public Builder logitBias(Map<Integer, Float> v) { logitBias = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, seed, presencePenalty, frequencyPenalty,
                    repetitionPenalty, maxTokens, minTokens, ignoreEos, stopTokenIds, stop, logprobs, constraint, logitBias);
        }
    }
}
