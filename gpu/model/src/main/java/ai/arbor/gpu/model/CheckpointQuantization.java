package ai.arbor.gpu.model;

import ai.arbor.gpu.files.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * What config.json's {@code quantization_config} and the weights' dtypes say about a checkpoint that is already
 * quantized: FP8 ({@code quant_method} {@code fp8}, or {@code compressed-tensors} with 8-bit float weights per tensor
 * or per channel, F8_E4M3 linear weights; read by {@code quant.Fp8Checkpoint}) is served, anything else is refused
 * by name at load.
 */
public final class CheckpointQuantization {
    private CheckpointQuantization() {}

    /** The first decoder layer's q projection: an FP8 checkpoint quantizes it. */
    private static final String PROBE = "model.layers.0.self_attn.q_proj.weight";

    /** Whether the checkpoint's linear layers are FP8 codes (then the backends keep them so, whatever was asked). */
    public static boolean fp8Weights(Weights w) {
        return w.contains(PROBE) && w.tensor(PROBE).dtype() == DType.F8_E4M3;
    }

    /**
     * Refuses what this reader cannot serve, naming it: a {@code quantization_config} of another method or scheme, or
     * F8 weights without one.
     *
     * @param config the parsed config.json
     */
    static void validate(Path configFile, JsonNode config, Weights w) {
        JsonNode q = config.get("quantization_config");
        boolean fp8Weights = fp8Weights(w);
        if (q == null || q.isNull()) {
            if (fp8Weights) {
                throw new ModelLoadException(configFile, "quantization_config", "the weights are F8_E4M3 but config.json "
                        + "has no quantization_config (expected quant_method fp8 or compressed-tensors)");
            }
            return;
        }
        String method = q.path("quant_method").asText("");
        switch (method) {
            case "fp8" -> {
                if (q.hasNonNull("weight_block_size")) {
                    throw new ModelLoadException(configFile, "quantization_config.weight_block_size",
                            "block-wise FP8 scales are not supported; per-tensor and per-channel scales are");
                }
            }
            case "compressed-tensors" -> {
                for (JsonNode group : q.path("config_groups")) {
                    JsonNode weights = group.path("weights");
                    String type = weights.path("type").asText("");
                    int bits = weights.path("num_bits").asInt(0);
                    String strategy = weights.path("strategy").asText("");
                    if (!type.equals("float") || bits != 8 || !(strategy.equals("tensor") || strategy.equals("channel"))) {
                        throw new ModelLoadException(configFile, "quantization_config.config_groups", "weights of type "
                                + type + ", " + bits + " bits, strategy " + strategy + " are not supported; FP8 (float, "
                                + "8 bits) with a tensor or channel strategy is");
                    }
                }
            }
            default -> throw new ModelLoadException(configFile, "quantization_config.quant_method", "'" + method
                    + "' checkpoints are not supported; fp8 and compressed-tensors (FP8) are, or an unquantized model");
        }
        if (!fp8Weights) {
            throw new ModelLoadException(configFile, "quantization_config", "declares " + method + " but " + PROBE
                    + " is not F8_E4M3");
        }
    }
}
