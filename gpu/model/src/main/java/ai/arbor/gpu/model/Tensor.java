package ai.arbor.gpu.model;

import java.nio.ByteBuffer;

/**
 * One weight tensor, row-major, backed by a read-only little-endian view of the memory-mapped safetensors file.
 * A 2-D weight of shape [out, in] multiplies a vector of length {@code in}.
 */
public record Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {

    public long numElements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public int rows() { return (int) shape[0]; }

    public int cols() { return shape.length < 2 ? 1 : (int) shape[1]; }
}
