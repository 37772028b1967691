package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.Pooling;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Prompts waiting for their embeddings, run by the engine thread at the start of a step. Its caller drops it by
 * cancelling {@code result}: a job not yet run then computes nothing, one running stops before its next prompt.
 */
record EmbeddingJob(List<int[]> prompts, Pooling pooling, CompletableFuture<float[][]> result) {

    /**
     * Embeds every prompt, one forward pass each; any failure (no room, unsupported backend, an {@link Error} such as
     * running out of memory) fails the whole job, so its caller always hears back. A {@link VirtualMachineError} is
     * thrown on after that: the engine loop, not this job, decides what a broken JVM means for the other requests.
     */
    void run(LLMEngine engine) {
        try {
            float[][] out = new float[prompts.size()][];
            for (int i = 0; i < out.length; i++) {
                if (result.isDone()) return;
                out[i] = engine.embedOne(prompts.get(i), pooling);
            }
            result.complete(out);
        } catch (Throwable e) {
            result.completeExceptionally(e);
            if (e instanceof VirtualMachineError fatal) throw fatal;
        }
    }
}
