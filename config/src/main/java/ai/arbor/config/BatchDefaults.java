package ai.arbor.config;

/**
 * The device's defaults for {@code max-num-seqs} and {@code max-num-batched-tokens}, used where the configuration
 * leaves them 0, the way vLLM's {@code EngineArgs._set_default_args} picks them per platform. A default
 * {@code max-num-seqs} is capped at the step's token budget (as vLLM does), so that every running sequence can take
 * its decode token in the same step.
 *
 * <p>Why CUDA keeps vLLM's smaller tier (256 / 2,048) rather than its 1,024 / 8,192 for GPUs of 70 GiB and more:
 * {@code gpu/cuda/src/main/cuda/NOTES.md}, "Batching defaults". In short, on the 1.5B shape on an H100 the step time
 * grows with its tokens from about 256 rows on (a 2,048-token step takes ~58 ms, an 8,192-token one would take
 * ~230 ms while every running sequence waits for it), decode graphs go up to 256 rows, and a larger budget would buy
 * only the per-step launch overhead (~1.5 ms a step, under 3% at 2,048).
 */
public record BatchDefaults(int maxNumSeqs, int maxNumBatchedTokens) {
    /** What Arbor's CPU backend has always used; vLLM's CPU API server takes 128 / 2,048. */
    static final BatchDefaults CPU = new BatchDefaults(256, 2048);
    /** vLLM's default tier for GPUs; see above for why not its H100 tier. */
    static final BatchDefaults CUDA = new BatchDefaults(256, 2048);

    /**
     * For {@code cpu}, {@code cuda}, {@code cuda:N}, a list of CUDA devices (each engine gets these limits), or
     * {@code synthetic} (which stands in for the CPU engine).
     */
    public static BatchDefaults forDevice(String device) {
        return device.startsWith("cuda") ? CUDA : CPU;
    }
}
