package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.quant.E4m3;
import ai.arbor.gpu.model.quant.Fp8Weight;
import java.util.List;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * An FP8 E4M3 matrix with per-row scales (a quarter of fp32's bytes, half of BF16's), rows zero-padded to whole
 * vectors. An E4M3 code widens to fp32 in two lane-wise ops and no table: shifted left by 20 and masked, its sign lands
 * on the float's sign bit and its 4 exponent and 3 mantissa bits on the float's lowest exponent and highest mantissa
 * bits, which makes the float {@code value * 2^-120} for normal and subnormal codes alike (E4M3 subnormals become
 * float subnormals, exactly). The activations are scaled by 2^64 once per matmul so that the products stay normal
 * floats; each row's dot product is then multiplied by its scale times 2^56. The powers of two make every step exact
 * but the fp32 accumulation. The NaN code would widen to 480: {@link Fp8Weight} never holds it.
 */
final class Fp8Matrix implements WeightMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    private static final int LANES = F.length();
    private static final int TOKEN_TILE = 4;
    private static final int TOKEN_BLOCK = 64;
    private static final float X_SCALE = 0x1p64f;
    private static final float OUT_SCALE = 0x1p56f;
    /** Keeps the sign bit and the low 7 bits of a sign-extended code shifted left by 20. */
    private static final int WIDEN_MASK = 0x87F00000;

    private final int rows;
    private final int cols;
    private final int stride;
    private final byte[] data;
    /** Each row's scale times {@link #OUT_SCALE}. */
    private final float[] rowScale;

    /** The parts' rows stacked into one matrix (q/k/v into one projection, gate/up into one). */
    Fp8Matrix(List<Fp8Weight> parts) {
        this.rows = parts.stream().mapToInt(Fp8Weight::rows).sum();
        this.cols = parts.get(0).cols();
        this.stride = Bf16Matrix.roundUp(cols, LANES);
        long total = (long) rows * stride;
        if (total > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("matrix [" + rows + ", " + cols + "] is too large for one Java array");
        }
        this.data = new byte[(int) total];
        this.rowScale = new float[rows];
        int r = 0;
        for (Fp8Weight w : parts) {
            if (w.cols() != cols) throw new IllegalArgumentException(w.name() + " has " + w.cols() + " columns, not " + cols);
            for (int i = 0; i < w.rows(); i++, r++) {
                System.arraycopy(w.codes(), i * cols, data, r * stride, cols);
                rowScale[r] = w.scales()[i] * OUT_SCALE;
            }
        }
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    @Override public long bytes() { return data.length + 4L * rows; }

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        float s = rowScale[r] / OUT_SCALE;
        for (int c = 0; c < cols; c++) dst[dstOffset + c] = E4m3.decode(data[r * stride + c]) * s;
    }

    @Override
    public void matmul(float[] x, int numTokens, float[] out, float[] bias, boolean accumulate, WorkerPool pool) {
        float[] xp = new float[numTokens * stride];
        for (int t = 0; t < numTokens; t++) {
            for (int c = 0; c < cols; c++) xp[t * stride + c] = x[t * cols + c] * X_SCALE;
        }
        pool.parallelFor(rows, WorkerPool.minChunk((long) stride * numTokens), (from, to) -> {
            for (int t0 = 0; t0 < numTokens; t0 += TOKEN_BLOCK) {
                int t1 = Math.min(numTokens, t0 + TOKEN_BLOCK);
                for (int r = from; r < to; r++) {
                    float b = bias == null ? 0f : bias[r];
                    int t = t0;
                    for (; t + TOKEN_TILE <= t1; t += TOKEN_TILE) dot4(r, xp, t, out, b, accumulate);
                    for (; t < t1; t++) {
                        Bf16Matrix.store(out, t * rows + r, dot1(r * stride, xp, t * stride) * rowScale[r] + b, accumulate);
                    }
                }
            }
        });
    }

    /** Lanes {@code [i, i + LANES)} of the codes as fp32, times 2^-120. */
    private FloatVector widen(int i) {
        IntVector codes = (IntVector) ByteVector.fromArray(B, data, i).convertShape(VectorOperators.B2I, I, 0);
        return codes.lanewise(VectorOperators.LSHL, 20).and(WIDEN_MASK).reinterpretAsFloats();
    }

    private float dot1(int w, float[] xp, int x0) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * LANES <= stride; i += 2 * LANES) {
            acc0 = widen(w + i).fma(FloatVector.fromArray(F, xp, x0 + i), acc0);
            acc1 = widen(w + i + LANES).fma(FloatVector.fromArray(F, xp, x0 + i + LANES), acc1);
        }
        if (i < stride) acc0 = widen(w + i).fma(FloatVector.fromArray(F, xp, x0 + i), acc0);
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Four tokens share each widened weight vector. */
    private void dot4(int r, float[] xp, int t, float[] out, float b, boolean accumulate) {
        int w = r * stride;
        int x0 = t * stride;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < stride; i += LANES) {
            FloatVector wv = widen(w + i);
            a0 = wv.fma(FloatVector.fromArray(F, xp, x0 + i), a0);
            a1 = wv.fma(FloatVector.fromArray(F, xp, x0 + stride + i), a1);
            a2 = wv.fma(FloatVector.fromArray(F, xp, x0 + 2 * stride + i), a2);
            a3 = wv.fma(FloatVector.fromArray(F, xp, x0 + 3 * stride + i), a3);
        }
        float s = rowScale[r];
        int o = t * rows + r;
        Bf16Matrix.store(out, o, a0.reduceLanes(VectorOperators.ADD) * s + b, accumulate);
        Bf16Matrix.store(out, o + rows, a1.reduceLanes(VectorOperators.ADD) * s + b, accumulate);
        Bf16Matrix.store(out, o + 2 * rows, a2.reduceLanes(VectorOperators.ADD) * s + b, accumulate);
        Bf16Matrix.store(out, o + 3 * rows, a3.reduceLanes(VectorOperators.ADD) * s + b, accumulate);
    }
}
