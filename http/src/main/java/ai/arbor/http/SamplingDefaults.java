package ai.arbor.http;

import ai.arbor.gpu.model.GenerationConfig;

/**
 * A model's own sampling defaults (its generation_config.json), used where a request leaves a field out; null means
 * the model has none and OpenAI's default applies.
 */
public record SamplingDefaults(Double temperature, Double topP, Integer topK, Double repetitionPenalty) {
    public static SamplingDefaults none() { return new SamplingDefaults(null, null, null, null); }

    /** The defaults a model's generation_config.json gives. */
    public static SamplingDefaults of(GenerationConfig g) {
        return new SamplingDefaults(g.temperature(), g.topP(), g.topK(), g.repetitionPenalty());
    }
}
