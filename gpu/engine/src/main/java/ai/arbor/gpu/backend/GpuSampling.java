package ai.arbor.gpu.backend;

/**
 * Optional capability of a {@link ComputeBackend}: a forward pass whose logits rows are sampled on the device
 * (temperature, top-k, top-p), so only token ids cross to the host. Penalties, min-p and logprobs are not applied
 * here: an engine uses this only for steps whose requests need none of them.
 */
public interface GpuSampling {

    /**
     * Like {@link ComputeBackend#forward}, then one token per logits row, in batch order. Per row: {@code temperature}
     * (<= 0 is greedy), {@code topK} (0 = off), {@code topP} (1 = off) and a uniform draw in [0, 1) from the request's
     * random stream, so seeded requests stay reproducible.
     */
    int[] forwardSample(ForwardBatch batch, float[] temperature, int[] topK, float[] topP, float[] uniform);
}
