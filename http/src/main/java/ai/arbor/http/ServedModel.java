package ai.arbor.http;

import ai.arbor.actors.frontend.Frontend;
import ai.arbor.gpu.model.EmbeddingDimensions;

/**
 * One model this frontend serves: its API name, its frontend (tokenizer + router), its context length, its sampling
 * defaults and the sizes its embeddings may be shortened to.
 */
public record ServedModel(String name, Frontend frontend, int maxModelLen, SamplingDefaults defaults,
                          long createdEpochSeconds, EmbeddingDimensions embeddingDimensions) {
    /** A model whose embeddings come in full size only. */
    public ServedModel(String name, Frontend frontend, int maxModelLen, SamplingDefaults defaults, long createdEpochSeconds) {
        this(name, frontend, maxModelLen, defaults, createdEpochSeconds, EmbeddingDimensions.FULL_ONLY);
    }
}
