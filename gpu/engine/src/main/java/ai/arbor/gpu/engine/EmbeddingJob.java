package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.Pooling;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Prompts waiting for their embeddings, run by the engine thread at the start of a step. */
record EmbeddingJob(List<int[]> prompts, Pooling pooling, CompletableFuture<float[][]> result) {

    /** Embeds every prompt, one forward pass each; a failure (no room, unsupported backend) fails the whole job. */
    void run(LLMEngine engine) {
        try {
            float[][] out = new float[prompts.size()][];
            for (int i = 0; i < out.length; i++) out[i] = engine.embedOne(prompts.get(i), pooling);
            result.complete(out);
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }
}
