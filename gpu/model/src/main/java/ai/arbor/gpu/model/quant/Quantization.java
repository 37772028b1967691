package ai.arbor.gpu.model.quant;

/**
 * How a backend stores the decoder layers' linear weights (q/k/v, o, gate/up, down), with vLLM's
 * {@code --quantization} names. Embeddings, the LM head and norms keep the checkpoint's precision, as in vLLM.
 */
public enum Quantization {
    /** The checkpoint's dtype. */
    NONE,
    /** FP8 E4M3 with one scale per output channel, quantized at load ({@link Fp8Weight}). */
    FP8
}
