package ai.arbor.gpu.model;

import ai.arbor.gpu.files.ModelLoadException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tensors (Hugging Face names and shapes) a {@link ModelConfig} needs; {@link #validate} checks a checkpoint
 * against it at load so a bad checkpoint fails there rather than mid-forward.
 */
public final class WeightLayout {

    public record Spec(String name, long... shape) {}

    private WeightLayout() {}

    public static List<Spec> required(ModelConfig c) {
        long h = c.hiddenSize(), v = c.vocabSize(), i = c.intermediateSize(), q = c.qDim(), kv = c.kvDim();
        List<Spec> specs = new ArrayList<>();
        specs.add(new Spec("model.embed_tokens.weight", v, h));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            specs.add(new Spec(p + "input_layernorm.weight", h));
            specs.add(new Spec(p + "self_attn.q_proj.weight", q, h));
            specs.add(new Spec(p + "self_attn.k_proj.weight", kv, h));
            specs.add(new Spec(p + "self_attn.v_proj.weight", kv, h));
            if (c.attentionBias()) {
                specs.add(new Spec(p + "self_attn.q_proj.bias", q));
                specs.add(new Spec(p + "self_attn.k_proj.bias", kv));
                specs.add(new Spec(p + "self_attn.v_proj.bias", kv));
            }
            if (c.qkNorm()) {
                specs.add(new Spec(p + "self_attn.q_norm.weight", c.headDim()));
                specs.add(new Spec(p + "self_attn.k_norm.weight", c.headDim()));
            }
            specs.add(new Spec(p + "self_attn.o_proj.weight", h, q));
            specs.add(new Spec(p + "post_attention_layernorm.weight", h));
            specs.add(new Spec(p + "mlp.gate_proj.weight", i, h));
            specs.add(new Spec(p + "mlp.up_proj.weight", i, h));
            specs.add(new Spec(p + "mlp.down_proj.weight", h, i));
        }
        specs.add(new Spec("model.norm.weight", h));
        if (!c.tieWordEmbeddings()) specs.add(new Spec("lm_head.weight", v, h));
        return specs;
    }

    /** Throws a {@link ModelLoadException} naming the checkpoint file and the first missing or misshapen tensor. */
    public static void validate(ModelConfig c, SafeTensorsWeights w) {
        for (Spec s : required(c)) {
            if (!w.contains(s.name()))
                throw new ModelLoadException(w.checkpointFile(), s.name(), "required tensor is missing (expected shape "
                        + Arrays.toString(s.shape()) + " for " + c.architecture().hfName() + ")");
            Tensor t = w.tensor(s.name());
            if (!Arrays.equals(t.shape(), s.shape()))
                throw new ModelLoadException(w.fileOf(s.name()), s.name(), "shape " + Arrays.toString(t.shape())
                        + " does not match config.json, which implies " + Arrays.toString(s.shape()));
        }
    }
}
