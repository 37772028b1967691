package ai.arbor.gpu.backend.cuda;

/**
 * The largest step the engine will ask for: {@code maxTokens} tokens ({@code max-num-batched-tokens}) of at most
 * {@code maxSequences} sequences ({@code max-num-seqs}). The CUDA backend allocates the activations and logits of such
 * a step before it sizes the KV cache, so that no later step grows them past {@code gpu-memory-utilization}.
 */
public record StepLimits(int maxTokens, int maxSequences) {
    /** For tools that drive the backend directly: the default batching limits of the CUDA device. */
    public static final StepLimits DEFAULT = new StepLimits(2048, 256);

    public StepLimits {
        if (maxTokens < 1 || maxSequences < 1) {
            throw new IllegalArgumentException("step limits must be >= 1, got " + maxTokens + " tokens, "
                    + maxSequences + " sequences");
        }
    }

    /** Activation rows: the token budget, or a decode step padded up to its graph's batch size where that is more. */
    int tokens() { return Math.max(maxTokens, paddedDecodeRows()); }

    /** Logits rows: one per sequence (only a sequence's last scheduled token has logits), graph padding included. */
    int logitRows() { return Math.max(Math.min(maxSequences, maxTokens), paddedDecodeRows()); }

    private int paddedDecodeRows() { return StepGraphs.padTo(Math.min(maxSequences, maxTokens)); }
}
