package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.model.RopeScaling;

/** RoPE inverse frequencies as transformers computes them (fp32 exponents, llama3 scaling); the kernel takes these. */
final class RopeFrequencies {
    private RopeFrequencies() {}

    static float[] of(double theta, int headDim, RopeScaling scaling) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim must be even for RoPE, got " + headDim);
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) inv[i] = (float) (1.0 / Math.pow(theta, (float) (2 * i) / headDim));
        String type = scaling == null ? "default" : scaling.type();
        switch (type) {
            case "default" -> { }
            case "llama3" -> llama3(inv, scaling);
            default -> throw new IllegalArgumentException("rope_scaling type '" + type
                    + "' is not supported by the CUDA backend (supported: default, llama3)");
        }
        return inv;
    }

    /** Llama 3.1: long wavelengths divided by factor, short ones kept, the band between interpolated smoothly. */
    private static void llama3(float[] inv, RopeScaling s) {
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        for (int i = 0; i < inv.length; i++) {
            double f = inv[i];
            double wavelen = 2 * Math.PI / f;
            double scaled = wavelen > lowFreqWavelen ? f / s.factor() : f;
            if (!(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen)) {
                double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                scaled = (1 - smooth) * scaled / s.factor() + smooth * scaled;
            }
            inv[i] = (float) scaled;
        }
    }
}
