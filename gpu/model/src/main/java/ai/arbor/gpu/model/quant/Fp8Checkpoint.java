package ai.arbor.gpu.model.quant;

import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A checkpoint that is already FP8, as vLLM reads them: config.json's {@code quantization_config} says
 * {@code quant_method} {@code fp8} (AutoFP8, vLLM's own) or {@code compressed-tensors} (llm-compressor's
 * float-quantized format), and each quantized linear layer's {@code weight} is {@code F8_E4M3} with a
 * {@code weight_scale} beside it: one value (per tensor) or one per output channel ({@code [out]} or {@code [out, 1]}).
 * The codes are E4M3 as {@link E4m3} reads them, so they load as they are; per-tensor scales become per-row ones.
 * Activation scales ({@code input_scale}) are not used: the backends keep activations in fp32 or bf16 (weight-only
 * FP8, as vLLM on GPUs without FP8 tensor cores). Block-wise scales ({@code weight_scale_inv}) are refused by name.
 * Which checkpoints are FP8, and whether config.json says so, is {@code CheckpointQuantization}'s.
 */
public final class Fp8Checkpoint {
    private Fp8Checkpoint() {}

    /**
     * The F8_E4M3 tensor {@code codes} ({@code [rows, cols]}) and its {@code weight_scale} as an {@link Fp8Weight}.
     *
     * @throws IllegalArgumentException naming the tensor: no or an unsupported scale, a scale that is not positive
     *                                  and finite, or a NaN code
     */
    public static Fp8Weight weight(Weights w, Tensor codes, int rows, int cols) {
        String name = codes.name();
        if (codes.dtype() != DType.F8_E4M3) throw new IllegalArgumentException(name + " is " + codes.dtype() + ", not F8_E4M3");
        String base = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
        if (!w.contains(base + ".weight_scale")) {
            throw new IllegalArgumentException(name + (w.contains(base + ".weight_scale_inv")
                    ? " has block-wise scales (weight_scale_inv), which are not supported; per-tensor and per-channel are"
                    : " is F8_E4M3 but " + base + ".weight_scale is missing"));
        }
        Tensor scale = w.tensor(base + ".weight_scale");
        long n = scale.numElements();
        boolean perTensor = n == 1;
        if (!perTensor && (n != rows || scale.shape()[0] != rows)) {
            throw new IllegalArgumentException(scale.name() + " has shape " + Arrays.toString(scale.shape())
                    + "; expected one scale, or one per output channel ([" + rows + "] or [" + rows + ", 1])");
        }
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            float s = read(scale, perTensor ? 0 : r);
            if (!(s > 0) || Float.isInfinite(s)) {
                throw new IllegalArgumentException(scale.name() + " holds " + s + " at " + (perTensor ? 0 : r)
                        + "; scales must be positive and finite");
            }
            scales[r] = s;
        }
        byte[] bytes = new byte[Math.multiplyExact(rows, cols)];
        codes.data().slice().get(bytes);
        for (int i = 0; i < bytes.length; i++) {
            if ((bytes[i] & 0x7F) == E4m3.NAN) {
                throw new IllegalArgumentException(name + " holds a NaN code at row " + i / cols + " column " + i % cols);
            }
        }
        return new Fp8Weight(name, rows, cols, bytes, scales);
    }

    /**
     * The checkpoint's FP8 weight where {@code t} is F8_E4M3, else {@code t} quantized at load from its rows.
     */
    public static Fp8Weight fp8(Weights w, Tensor t, int rows, int cols, Fp8Weight.RowSource rowsOfT) {
        return t.dtype() == DType.F8_E4M3 ? weight(w, t, rows, cols) : Fp8Weight.quantize(t.name(), rows, cols, rowsOfT);
    }

    private static float read(Tensor t, int i) {
        ByteBuffer b = t.data().slice().order(ByteOrder.LITTLE_ENDIAN);
        return switch (t.dtype()) {
            case F32 -> b.getFloat(4 * i);
            case BF16 -> Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
            case F16 -> f16(b.getShort(2 * i));
            case F8_E4M3 -> throw new IllegalArgumentException(t.name() + ": a scale cannot be F8_E4M3");
        };
    }

    /** IEEE half to float (normals, subnormals, infinities and NaN). */
    private static float f16(short h) {
        int sign = (h & 0x8000) << 16, exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp != 0) return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
        float v = mant * 0x1p-24f;
        return sign != 0 ? -v : v;
    }
}
