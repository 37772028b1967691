package ai.arbor.gpu.model;

/** Element types a safetensors weight may have; the engine computes in fp32 whatever it stores. */
public enum DType {
    BF16(2), F16(2), F32(4);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }
}
