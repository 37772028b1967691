package ai.arbor.gpu.model;

/**
 * The shape of a decoder-only model, parsed from {@code config.json} (both the classic and the transformers-5 layout).
 *
 * @param attentionBias q/k/v projections carry biases (Qwen2)
 * @param qkNorm        per-head RMSNorm on q and k before RoPE (Qwen3)
 * @param dtype         the dtype the checkpoint declares ({@code torch_dtype} or {@code dtype})
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean qkNorm,
        DType dtype) {

    public int kvDim() { return numKvHeads * headDim; }

    public int qDim() { return numHeads * headDim; }
}
