package ai.arbor.gpu.model;

/**
 * Element types a safetensors weight may have; the engine computes in fp32 whatever it stores. F8_E4M3 (an FP8
 * checkpoint's linear weights) is only read with its scale tensor ({@code quant.Fp8Checkpoint}).
 */
public enum DType {
    BF16(2), F16(2), F32(4), F8_E4M3(1);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }
}
