package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.RopeScaling;

/**
 * Rotary position embedding with Hugging Face's rotate_half convention: dimension {@code i} pairs with
 * {@code i + headDim/2} (not interleaved pairs). Angles are computed in fp32 as transformers does, so positions far
 * from zero round the same way.
 */
final class Rope {
    private final int headDim;
    private final int half;
    private final float[] invFreq;

    Rope(ModelConfig config) {
        this.headDim = config.headDim();
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim must be even for RoPE, got " + headDim);
        this.half = headDim / 2;
        this.invFreq = inverseFrequencies(config.ropeTheta(), headDim, config.ropeScaling());
    }

    static float[] inverseFrequencies(double theta, int headDim, RopeScaling scaling) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            inv[i] = (float) (1.0 / Math.pow(theta, exponent));
        }
        String type = scaling == null ? "default" : scaling.type();
        switch (type) {
            case "default" -> { }
            case "llama3" -> applyLlama3(inv, scaling);
            default -> throw new IllegalArgumentException("rope_scaling type '" + type
                    + "' is not supported by the CPU backend (supported: default, llama3)");
        }
        return inv;
    }

    /**
     * Llama 3.1's scaling as transformers' {@code _compute_llama3_parameters}: long wavelengths are divided by
     * {@code factor}, short ones kept, and the band between interpolated smoothly.
     */
    private static void applyLlama3(float[] inv, RopeScaling s) {
        double factor = s.factor();
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        for (int i = 0; i < inv.length; i++) {
            double f = inv[i];
            double wavelen = 2 * Math.PI / f;
            double scaled = wavelen > lowFreqWavelen ? f / factor : f;
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            inv[i] = (float) scaled;
        }
    }

    /** cos and sin of every token's angles, {@code [numTokens, headDim/2]} each, computed once per forward pass. */
    Tables tables(int[] positions) {
        float[] cos = new float[positions.length * half];
        float[] sin = new float[positions.length * half];
        for (int t = 0; t < positions.length; t++) {
            float pos = positions[t];
            for (int i = 0; i < half; i++) {
                float angle = pos * invFreq[i];
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
        return new Tables(cos, sin);
    }

    record Tables(float[] cos, float[] sin) {}

    /** Rotates the head vector at {@code x[offset..offset+headDim)} by token {@code t}'s angles. */
    void rotate(float[] x, int offset, int t, Tables tables) {
        int base = t * half;
        for (int i = 0; i < half; i++) {
            float c = tables.cos[base + i];
            float s = tables.sin[base + i];
            float x1 = x[offset + i];
            float x2 = x[offset + i + half];
            x[offset + i] = x1 * c - x2 * s;
            x[offset + i + half] = x2 * c + x1 * s;
        }
    }

    int headDim() { return headDim; }
}
