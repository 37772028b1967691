package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;
import ai.arbor.gpu.model.quant.Fp8Checkpoint;
import ai.arbor.gpu.model.quant.Fp8Weight;
import ai.arbor.gpu.model.quant.Quantization;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Converts checkpoint tensors into the backend's heap layouts, checking each shape against the model config. */
final class TensorReader {
    private TensorReader() {}

    /**
     * The tensors stacked along their rows into one matrix (q/k/v into one projection, gate/up into one): one pass
     * over the activations instead of three. With {@link Quantization#FP8} each part is quantized per row, and an FP8
     * checkpoint's parts keep their codes and scales whatever was asked; otherwise BF16 stays BF16 and anything else
     * becomes fp32.
     */
    static WeightMatrix matrix(Weights w, List<Tensor> parts, int[] expectedRows, int cols, Quantization quantization) {
        if (quantization == Quantization.FP8 || parts.stream().anyMatch(t -> t.dtype() == DType.F8_E4M3)) {
            List<Fp8Weight> quantized = new ArrayList<>(parts.size());
            for (int i = 0; i < parts.size(); i++) {
                Tensor t = parts.get(i);
                checkShape(t, new long[]{expectedRows[i], cols});
                // an FP8 checkpoint's codes and scales as they are, anything else quantized per row
                quantized.add(Fp8Checkpoint.fp8(w, t, expectedRows[i], cols, (r, dst) -> readRow(t, r, cols, dst)));
            }
            return new Fp8Matrix(quantized);
        }
        return matrix(parts, expectedRows, cols);
    }

    /** {@link #matrix(List, int[], int, Quantization)} in the checkpoint's precision. */
    static WeightMatrix matrix(List<Tensor> parts, int[] expectedRows, int cols) {
        int rows = 0;
        for (int i = 0; i < parts.size(); i++) {
            Tensor t = parts.get(i);
            checkShape(t, new long[]{expectedRows[i], cols});
            rows += expectedRows[i];
        }
        int[] partOf = new int[rows];
        int[] rowIn = new int[rows];
        int r0 = 0;
        for (int i = 0; i < parts.size(); i++) {
            for (int r = 0; r < expectedRows[i]; r++) {
                partOf[r0 + r] = i;
                rowIn[r0 + r] = r;
            }
            r0 += expectedRows[i];
        }
        boolean allBf16 = parts.stream().allMatch(t -> t.dtype() == DType.BF16);
        if (allBf16) {
            return Bf16Matrix.fromBits(rows, cols, (r, dst) -> {
                Tensor t = parts.get(partOf[r]);
                ByteBuffer b = le(t.data());
                b.position(Math.multiplyExact(rowIn[r], cols * 2));
                b.asShortBuffer().get(dst, 0, cols);
            });
        }
        return new F32Matrix(rows, cols, (r, dst) -> readRow(parts.get(partOf[r]), rowIn[r], cols, dst));
    }

    static WeightMatrix matrix(Tensor t, int rows, int cols) {
        return matrix(List.of(t), new int[]{rows}, cols);
    }

    static WeightMatrix matrix(Weights w, Tensor t, int rows, int cols, Quantization quantization) {
        return matrix(w, List.of(t), new int[]{rows}, cols, quantization);
    }

    /** A 1-D tensor (norm weight, bias) as fp32. */
    static float[] vector(Tensor t, int length) {
        checkShape(t, new long[]{length});
        float[] v = new float[length];
        readRow(t, 0, length, v);
        return v;
    }

    private static void readRow(Tensor t, int row, int cols, float[] dst) {
        ByteBuffer b = le(t.data());
        int base = row * cols;
        switch (t.dtype()) {
            case F32 -> {
                b.position(Math.multiplyExact(base, 4));
                b.asFloatBuffer().get(dst, 0, cols);
            }
            case BF16 -> {
                for (int c = 0; c < cols; c++) dst[c] = Bf16.bf16ToFloat(b.getShort((base + c) * 2));
            }
            case F16 -> {
                for (int c = 0; c < cols; c++) dst[c] = Bf16.f16ToFloat(b.getShort((base + c) * 2));
            }
            case F8_E4M3 -> throw new IllegalArgumentException(t.name() + " is F8_E4M3: only a quantized linear layer "
                    + "(with its weight_scale) may be");
        }
    }

    private static ByteBuffer le(ByteBuffer data) {
        return data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void checkShape(Tensor t, long[] expected) {
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException("tensor " + t.name() + " has shape " + Arrays.toString(t.shape())
                    + " but the model config implies " + Arrays.toString(expected));
        }
        long needBytes = t.numElements() * t.dtype().bytes();
        if (t.data().remaining() < needBytes) {
            throw new IllegalArgumentException("tensor " + t.name() + " holds " + t.data().remaining()
                    + " bytes, fewer than its shape needs (" + needBytes + ")");
        }
    }
}
