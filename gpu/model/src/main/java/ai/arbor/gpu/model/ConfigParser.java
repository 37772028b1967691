package ai.arbor.gpu.model;

import ai.arbor.gpu.files.JsonFiles;
import ai.arbor.gpu.files.ModelLoadException;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Turns a Hugging Face {@code config.json} into a {@link ModelConfig}. Defaults follow transformers' config classes
 * (LlamaConfig, Qwen2Config, Qwen3Config) for the fields checkpoints may leave out; the size fields are required so a
 * truncated config fails loudly instead of building a 7B-shaped model from defaults.
 */
public final class ConfigParser {

    private ConfigParser() {}

    public static ModelConfig parse(Path file) {
        return parse(file, JsonFiles.read(file));
    }

    public static ModelConfig parse(Path file, JsonNode root) {
        if (!root.isObject()) throw new ModelLoadException(file, null, "expected a JSON object");
        JsonFiles.Fields f = new JsonFiles.Fields(file, root);
        Architecture arch = architecture(f);

        int hidden = f.requireInt("hidden_size");
        int heads = f.requireInt("num_attention_heads");
        int kvHeads = f.optInt("num_key_value_heads", heads);
        int layers = f.requireInt("num_hidden_layers");
        int vocab = f.requireInt("vocab_size");
        int intermediate = f.requireInt("intermediate_size");
        positive(f, "hidden_size", hidden);
        positive(f, "num_attention_heads", heads);
        positive(f, "num_key_value_heads", kvHeads);
        positive(f, "num_hidden_layers", layers);
        positive(f, "vocab_size", vocab);
        positive(f, "intermediate_size", intermediate);
        if (heads % kvHeads != 0)
            throw new ModelLoadException(file, "num_key_value_heads",
                    kvHeads + " does not divide num_attention_heads " + heads);
        int headDim;
        if (f.has("head_dim")) {
            headDim = f.requireInt("head_dim");
            positive(f, "head_dim", headDim);
        } else {
            if (hidden % heads != 0)
                throw new ModelLoadException(file, "head_dim",
                        "missing, and hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
            headDim = hidden / heads;
        }
        if (headDim % 2 != 0) throw new ModelLoadException(file, "head_dim", "RoPE needs an even head_dim, got " + headDim);

        int maxPos = f.optInt("max_position_embeddings", arch == Architecture.LLAMA ? 2048 : 32768);
        double eps = f.optDouble("rms_norm_eps", 1e-6);
        // Every one of the three transformers config classes defaults tie_word_embeddings to False
        // (PretrainedConfig's True is overridden), so a config without the field is untied.
        boolean tied = f.optBool("tie_word_embeddings", false);

        boolean attentionBias;
        switch (arch) {
            case QWEN2 -> attentionBias = true; // Qwen2Attention hard-codes bias=True on q/k/v, False on o.
            default -> {
                // Llama/Qwen3 attention_bias also puts a bias on o_proj, which the engine does not implement.
                if (f.optBool("attention_bias", false))
                    throw new ModelLoadException(file, "attention_bias",
                            "true is not supported for " + arch.hfName() + " (it adds an o_proj bias)");
                attentionBias = false;
            }
        }
        if (f.optBool("mlp_bias", false))
            throw new ModelLoadException(file, "mlp_bias", "true is not supported (MLP projections with biases)");
        if (arch == Architecture.QWEN2 && f.optBool("use_sliding_window", false))
            throw new ModelLoadException(file, "use_sliding_window", "sliding-window attention is not supported");
        String act = f.optString("hidden_act", "silu");
        if (!act.equals("silu"))
            throw new ModelLoadException(file, "hidden_act", "only silu (SwiGLU) is supported, got '" + act + "'");

        double[] theta = {f.optDouble("rope_theta", 10000.0)};
        RopeScaling scaling = rope(f, theta);
        DType dtype = dtype(f);

        return new ModelConfig(arch, vocab, hidden, intermediate, layers, heads, kvHeads, headDim, maxPos, eps,
                theta[0], scaling, tied, attentionBias, arch == Architecture.QWEN3, dtype);
    }

    private static Architecture architecture(JsonFiles.Fields f) {
        JsonNode archs = f.get("architectures");
        String name;
        if (archs != null && archs.isArray() && archs.size() > 0 && archs.get(0).isTextual()) {
            name = archs.get(0).asText();
        } else if (archs != null) {
            throw new ModelLoadException(f.file(), "architectures", "expected a non-empty list of names, got " + archs);
        } else {
            String type = f.optString("model_type", null);
            if (type == null) throw new ModelLoadException(f.file(), "architectures", "required field is missing");
            name = switch (type) {
                case "llama" -> "LlamaForCausalLM";
                case "qwen2" -> "Qwen2ForCausalLM";
                case "qwen3" -> "Qwen3ForCausalLM";
                default -> throw new ModelLoadException(f.file(), "model_type", "unsupported model type '" + type + "'");
            };
        }
        for (Architecture a : Architecture.values()) if (a.hfName().equals(name)) return a;
        throw new ModelLoadException(f.file(), "architectures", "unsupported architecture '" + name
                + "' (supported: LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM)");
    }

    /**
     * Classic layout: {@code rope_theta} top level plus an optional {@code rope_scaling} object. transformers 5:
     * a {@code rope_parameters} object holding rope_theta, rope_type and the llama3 fields.
     */
    private static RopeScaling rope(JsonFiles.Fields f, double[] theta) {
        String field = "rope_parameters";
        JsonFiles.Fields p = f.object(field);
        if (p != null) {
            theta[0] = p.optDouble("rope_theta", theta[0]);
        } else {
            field = "rope_scaling";
            p = f.object(field);
            if (p == null) return RopeScaling.DEFAULT;
        }
        String type = p.optString("rope_type", null);
        if (type == null) type = p.optString("type", "default");
        type = type.toLowerCase(Locale.ROOT);
        switch (type) {
            case "default":
                return RopeScaling.DEFAULT;
            case "llama3": {
                String prefix = field + ".";
                double factor = requirePositive(f, p, prefix, "factor");
                double low = requirePositive(f, p, prefix, "low_freq_factor");
                double high = requirePositive(f, p, prefix, "high_freq_factor");
                if (!p.has("original_max_position_embeddings"))
                    throw new ModelLoadException(f.file(), prefix + "original_max_position_embeddings", "required for llama3 RoPE scaling");
                int orig = p.requireInt("original_max_position_embeddings");
                if (high <= low)
                    throw new ModelLoadException(f.file(), prefix + "high_freq_factor", "must exceed low_freq_factor " + low);
                return new RopeScaling("llama3", factor, low, high, orig);
            }
            default:
                throw new ModelLoadException(f.file(), field + ".rope_type",
                        "unsupported RoPE scaling '" + type + "' (supported: default, llama3)");
        }
    }

    private static double requirePositive(JsonFiles.Fields root, JsonFiles.Fields p, String prefix, String name) {
        if (!p.has(name)) throw new ModelLoadException(root.file(), prefix + name, "required for llama3 RoPE scaling");
        JsonNode v = p.get(name);
        if (!v.isNumber() || v.asDouble() <= 0)
            throw new ModelLoadException(root.file(), prefix + name, "expected a positive number, got " + v);
        return v.asDouble();
    }

    private static DType dtype(JsonFiles.Fields f) {
        String field = f.has("dtype") ? "dtype" : "torch_dtype";
        String s = f.optString(field, "bfloat16");
        return switch (s) {
            case "bfloat16" -> DType.BF16;
            case "float16", "half" -> DType.F16;
            case "float32", "float" -> DType.F32;
            default -> throw new ModelLoadException(f.file(), field,
                    "unsupported dtype '" + s + "' (supported: bfloat16, float16, float32)");
        };
    }

    private static void positive(JsonFiles.Fields f, String field, int v) {
        if (v <= 0) throw new ModelLoadException(f.file(), field, "must be positive, got " + v);
    }
}
