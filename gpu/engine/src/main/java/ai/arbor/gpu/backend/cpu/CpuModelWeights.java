package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;
import ai.arbor.gpu.model.quant.Quantization;

import java.util.List;

/**
 * The checkpoint converted into the CPU kernels' layouts: q/k/v stacked into one projection and gate/up into one, so
 * each layer runs four matmuls. The layers' matrices are quantized as asked; the embeddings and LM head keep the
 * checkpoint's precision (as vLLM's fp8 does). Biases are optional everywhere (Qwen2 has q/k/v biases; some Llama variants have
 * o_proj or MLP biases).
 */
record CpuModelWeights(WeightMatrix embedTokens, Layer[] layers, float[] finalNorm, WeightMatrix lmHead) {

    record Layer(float[] inputNorm,
                 WeightMatrix qkvProj, float[] qkvBias,
                 float[] qNorm, float[] kNorm,
                 WeightMatrix oProj, float[] oBias,
                 float[] postAttentionNorm,
                 WeightMatrix gateUpProj, float[] gateUpBias,
                 WeightMatrix downProj, float[] downBias) {}

    long bytes() {
        long n = embedTokens.bytes() + (lmHead == embedTokens ? 0 : lmHead.bytes());
        for (Layer l : layers) n += l.qkvProj.bytes() + l.oProj.bytes() + l.gateUpProj.bytes() + l.downProj.bytes();
        return n;
    }

    static CpuModelWeights load(ModelConfig c, Weights w, Quantization quant) {
        int hidden = c.hiddenSize();
        int q = c.qDim();
        int kv = c.kvDim();
        int inter = c.intermediateSize();
        WeightMatrix embed = TensorReader.matrix(w.tensor("model.embed_tokens.weight"), c.vocabSize(), hidden);
        Layer[] layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            String a = p + "self_attn.";
            String m = p + "mlp.";
            WeightMatrix qkv = TensorReader.matrix(w,
                    List.of(w.tensor(a + "q_proj.weight"), w.tensor(a + "k_proj.weight"), w.tensor(a + "v_proj.weight")),
                    new int[]{q, kv, kv}, hidden, quant);
            float[] qkvBias = stackedBias(w, new String[]{a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias"},
                    new int[]{q, kv, kv});
            if (c.attentionBias() && qkvBias == null) {
                throw new IllegalArgumentException("config declares attention biases but " + a + "q_proj.bias is missing");
            }
            float[] qNorm = null;
            float[] kNorm = null;
            if (c.qkNorm()) {
                qNorm = TensorReader.vector(w.tensor(a + "q_norm.weight"), c.headDim());
                kNorm = TensorReader.vector(w.tensor(a + "k_norm.weight"), c.headDim());
            }
            WeightMatrix gateUp = TensorReader.matrix(w,
                    List.of(w.tensor(m + "gate_proj.weight"), w.tensor(m + "up_proj.weight")),
                    new int[]{inter, inter}, hidden, quant);
            layers[i] = new Layer(
                    TensorReader.vector(w.tensor(p + "input_layernorm.weight"), hidden),
                    qkv, qkvBias, qNorm, kNorm,
                    TensorReader.matrix(w, w.tensor(a + "o_proj.weight"), hidden, q, quant),
                    optionalVector(w, a + "o_proj.bias", hidden),
                    TensorReader.vector(w.tensor(p + "post_attention_layernorm.weight"), hidden),
                    gateUp,
                    stackedBias(w, new String[]{m + "gate_proj.bias", m + "up_proj.bias"}, new int[]{inter, inter}),
                    TensorReader.matrix(w, w.tensor(m + "down_proj.weight"), hidden, inter, quant),
                    optionalVector(w, m + "down_proj.bias", hidden));
        }
        float[] norm = TensorReader.vector(w.tensor("model.norm.weight"), hidden);
        WeightMatrix lmHead;
        if (c.tieWordEmbeddings()) {
            lmHead = embed;
        } else if (!w.contains("lm_head.weight")) {
            throw new IllegalArgumentException("tie_word_embeddings is false but lm_head.weight is missing");
        } else {
            lmHead = TensorReader.matrix(w.tensor("lm_head.weight"), c.vocabSize(), hidden);
        }
        return new CpuModelWeights(embed, layers, norm, lmHead);
    }

    private static float[] optionalVector(Weights w, String name, int length) {
        return w.contains(name) ? TensorReader.vector(w.tensor(name), length) : null;
    }

    /** The parts' biases laid end to end (zeros for a part without one), or null when no part has a bias. */
    private static float[] stackedBias(Weights w, String[] names, int[] lengths) {
        boolean any = false;
        for (String n : names) any |= w.contains(n);
        if (!any) return null;
        int total = 0;
        for (int l : lengths) total += l;
        float[] bias = new float[total];
        int off = 0;
        for (int i = 0; i < names.length; i++) {
            if (w.contains(names[i])) {
                System.arraycopy(TensorReader.vector(w.tensor(names[i]), lengths[i]), 0, bias, off, lengths[i]);
            }
            off += lengths[i];
        }
        return bias;
    }
}
