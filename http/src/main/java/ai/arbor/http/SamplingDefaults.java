package ai.arbor.http;

/**
 * A model's own sampling defaults (its generation_config.json), used where a request leaves a field out; null means
 * the model has none and OpenAI's default applies.
 */
public record SamplingDefaults(Double temperature, Double topP, Integer topK, Double repetitionPenalty) {
    public static SamplingDefaults none() { return new SamplingDefaults(null, null, null, null); }
}
