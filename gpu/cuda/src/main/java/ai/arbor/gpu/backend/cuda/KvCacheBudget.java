package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.model.ModelConfig;

/**
 * How much of a GPU the CUDA backend takes, as vLLM's {@code --gpu-memory-utilization}: the backend may fill
 * {@code utilization x total} bytes less what is already in use, weights and the largest step's buffers first, the
 * KV cache the rest. Plain arithmetic on the device's (total, free) figures, so that it is tested without a device.
 */
final class KvCacheBudget {
    private KvCacheBudget() {}

    /** Bytes still allowed on a device of {@code total} bytes with {@code free} free (negative: already over). */
    static long allowed(long total, long free, double utilization) {
        return (long) (total * utilization) - (total - free);
    }

    /** The buffers of the largest step (activations, logits, the device sampler's state), all allocated up front. */
    static long stepBuffers(ModelConfig config, StepLimits limits, int penaltySlots) {
        return ForwardPass.workspaceBytes(config, limits.tokens(), limits.logitRows())
                + DeviceSampler.bytes(config.vocabSize(), penaltySlots, limits.logitRows());
    }

    /**
     * KV blocks of {@code blockBytes} that fit once everything else is allocated.
     *
     * @param heldKvBytes what the KV cache holds now (0 the first time): it is freed before the cache is re-sized
     */
    static int kvBlocks(long total, long free, double utilization, long heldKvBytes, long blockBytes) {
        return kvBlocks(total, free, utilization, heldKvBytes, 0, blockBytes);
    }

    /**
     * The same with {@code reservedBytes} set aside for buffers allocated later (the staging of batched KV block
     * copies, allocated on their first use).
     */
    static int kvBlocks(long total, long free, double utilization, long heldKvBytes, long reservedBytes, long blockBytes) {
        long blocks = (allowed(total, free, utilization) + heldKvBytes - reservedBytes) / blockBytes - 1; // a scratch block for padded graph rows
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE / 2, blocks));
    }
}
