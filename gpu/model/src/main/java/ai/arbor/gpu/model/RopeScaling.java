package ai.arbor.gpu.model;

/**
 * RoPE frequency scaling. {@code type} is "default" (no scaling) or "llama3" (Llama 3.1's smooth
 * low/high-frequency interpolation); the other fields only matter for llama3.
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {
    public static final RopeScaling DEFAULT = new RopeScaling("default", 1.0, 1.0, 4.0, 8192);
}
