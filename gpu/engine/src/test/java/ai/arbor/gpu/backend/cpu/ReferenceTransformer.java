package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.RopeScaling;
import ai.arbor.gpu.model.Tensor;

import java.util.Map;

/**
 * A deliberately plain, dense, double-precision decoder (no paging, no batching, no fusion) written from the
 * transformers modeling code, to check the backend's forward pass against.
 */
final class ReferenceTransformer {
    private final ModelConfig c;
    private final Map<String, Tensor> w;

    ReferenceTransformer(ModelConfig c, Map<String, Tensor> w) {
        this.c = c;
        this.w = w;
    }

    /** Logits at every position of {@code tokens}: {@code [tokens.length][vocab]}. */
    double[][] logits(int[] tokens) {
        int n = tokens.length;
        int h = c.hiddenSize();
        int hd = c.headDim();
        double[] embed = v("model.embed_tokens.weight");
        double[][] x = new double[n][h];
        for (int t = 0; t < n; t++) System.arraycopy(embed, tokens[t] * h, x[t], 0, h);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][];
            double[][] k = new double[n][];
            double[][] vv = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] hn = rmsnorm(x[t], v(p + "input_layernorm.weight"));
                q[t] = linear(p + "self_attn.q_proj", hn);
                k[t] = linear(p + "self_attn.k_proj", hn);
                vv[t] = linear(p + "self_attn.v_proj", hn);
                if (c.qkNorm()) {
                    headNorm(q[t], v(p + "self_attn.q_norm.weight"));
                    headNorm(k[t], v(p + "self_attn.k_norm.weight"));
                }
                rope(q[t], t);
                rope(k[t], t);
            }
            int group = c.numHeads() / c.numKvHeads();
            for (int t = 0; t < n; t++) {
                double[] attn = new double[c.qDim()];
                for (int head = 0; head < c.numHeads(); head++) {
                    int kvh = head / group;
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += q[t][head * hd + d] * k[s][kvh * hd + d];
                        scores[s] = dot / Math.sqrt(hd);
                        max = Math.max(max, scores[s]);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) sum += scores[s] = Math.exp(scores[s] - max);
                    for (int s = 0; s <= t; s++) {
                        for (int d = 0; d < hd; d++) attn[head * hd + d] += scores[s] / sum * vv[s][kvh * hd + d];
                    }
                }
                add(x[t], linear(p + "self_attn.o_proj", attn));
            }
            for (int t = 0; t < n; t++) {
                double[] hn = rmsnorm(x[t], v(p + "post_attention_layernorm.weight"));
                double[] gate = linear(p + "mlp.gate_proj", hn);
                double[] up = linear(p + "mlp.up_proj", hn);
                double[] act = new double[gate.length];
                for (int i = 0; i < act.length; i++) act[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                add(x[t], linear(p + "mlp.down_proj", act));
            }
        }
        String head = c.tieWordEmbeddings() ? "model.embed_tokens" : "lm_head";
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) out[t] = linear(head, rmsnorm(x[t], v("model.norm.weight")));
        return out;
    }

    private double[] v(String name) { return SyntheticModel.values(w.get(name)); }

    private double[] linear(String prefix, double[] in) {
        Tensor t = w.get(prefix + ".weight");
        double[] m = SyntheticModel.values(t);
        int rows = t.rows();
        int cols = t.cols();
        double[] out = new double[rows];
        Tensor bias = w.get(prefix + ".bias");
        double[] b = bias == null ? null : SyntheticModel.values(bias);
        for (int r = 0; r < rows; r++) {
            double s = b == null ? 0 : b[r];
            for (int col = 0; col < cols; col++) s += m[r * cols + col] * in[col];
            out[r] = s;
        }
        return out;
    }

    private double[] rmsnorm(double[] x, double[] weight) {
        double ss = 0;
        for (double d : x) ss += d * d;
        double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = weight[i] * x[i] * inv;
        return out;
    }

    private void headNorm(double[] x, double[] weight) {
        int hd = c.headDim();
        for (int off = 0; off < x.length; off += hd) {
            double[] head = new double[hd];
            System.arraycopy(x, off, head, 0, hd);
            System.arraycopy(rmsnorm(head, weight), 0, x, off, hd);
        }
    }

    /** rotate_half RoPE: x * cos + rotate_half(x) * sin, with rotate_half(x) = cat(-x2, x1). */
    private void rope(double[] x, int pos) {
        int hd = c.headDim();
        int half = hd / 2;
        double[] inv = inverseFrequencies();
        for (int off = 0; off < x.length; off += hd) {
            for (int i = 0; i < half; i++) {
                double angle = pos * inv[i];
                double x1 = x[off + i];
                double x2 = x[off + i + half];
                x[off + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
                x[off + i + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
            }
        }
    }

    private double[] inverseFrequencies() {
        int hd = c.headDim();
        double[] inv = new double[hd / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1 / Math.pow(c.ropeTheta(), 2.0 * i / hd);
        RopeScaling s = c.ropeScaling();
        if (s != null && s.type().equals("llama3")) {
            double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
            double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
            for (int i = 0; i < inv.length; i++) {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen < highWavelen) continue;
                if (wavelen > lowWavelen) {
                    inv[i] /= s.factor();
                } else {
                    double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                            / (s.highFreqFactor() - s.lowFreqFactor());
                    inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
                }
            }
        }
        return inv;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }
}
