package ai.arbor.gpu.backend.cpu;

/** The SwiGLU gate: {@code silu(gate) * up}, with gate and up side by side in one row of the fused projection. */
final class Swiglu {
    private Swiglu() {}

    static void apply(float[] gateUp, int offset, float[] out, int outOffset, int intermediate) {
        for (int i = 0; i < intermediate; i++) {
            float gate = gateUp[offset + i];
            float up = gateUp[offset + intermediate + i];
            out[outOffset + i] = gate / (1f + (float) Math.exp(-gate)) * up;
        }
    }
}
