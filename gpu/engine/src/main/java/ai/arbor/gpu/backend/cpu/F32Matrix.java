package ai.arbor.gpu.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** An fp32 matrix (F32 checkpoints, and F16 ones widened at load); rows zero-padded to whole vectors. */
final class F32Matrix implements WeightMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    private static final int TOKEN_TILE = 4;

    private final int rows;
    private final int cols;
    private final int stride;
    private final float[] data;

    /** Supplies row {@code r} as fp32 into {@code dst[0..cols)}. */
    @FunctionalInterface
    interface RowSource {
        void row(int r, float[] dst);
    }

    F32Matrix(int rows, int cols, RowSource source) {
        this.rows = rows;
        this.cols = cols;
        this.stride = Bf16Matrix.roundUp(cols, LANES);
        long total = (long) rows * stride;
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("matrix [" + rows + ", " + cols + "] is too large for one Java array");
        }
        this.data = new float[(int) total];
        float[] buf = new float[cols];
        for (int r = 0; r < rows; r++) {
            source.row(r, buf);
            System.arraycopy(buf, 0, data, r * stride, cols);
        }
    }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    @Override public long bytes() { return (long) data.length * 4; }

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        System.arraycopy(data, r * stride, dst, dstOffset, cols);
    }

    @Override
    public void matmul(float[] x, int numTokens, float[] out, float[] bias, boolean accumulate, WorkerPool pool) {
        float[] xp = new float[numTokens * stride];
        for (int t = 0; t < numTokens; t++) System.arraycopy(x, t * cols, xp, t * stride, cols);
        pool.parallelFor(rows, WorkerPool.minChunk((long) stride * numTokens), (from, to) -> {
            for (int r = from; r < to; r++) {
                float b = bias == null ? 0f : bias[r];
                int t = 0;
                for (; t + TOKEN_TILE <= numTokens; t += TOKEN_TILE) dot4(r * stride, xp, t * stride, out, t * rows + r, b, accumulate);
                for (; t < numTokens; t++) {
                    FloatVector acc = FloatVector.zero(F);
                    int x0 = t * stride;
                    int w = r * stride;
                    for (int i = 0; i < stride; i += LANES) {
                        acc = FloatVector.fromArray(F, data, w + i).fma(FloatVector.fromArray(F, xp, x0 + i), acc);
                    }
                    Bf16Matrix.store(out, t * rows + r, acc.reduceLanes(VectorOperators.ADD) + b, accumulate);
                }
            }
        });
    }

    private void dot4(int w, float[] xp, int x0, float[] out, int o, float b, boolean accumulate) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < stride; i += LANES) {
            FloatVector wv = FloatVector.fromArray(F, data, w + i);
            a0 = wv.fma(FloatVector.fromArray(F, xp, x0 + i), a0);
            a1 = wv.fma(FloatVector.fromArray(F, xp, x0 + stride + i), a1);
            a2 = wv.fma(FloatVector.fromArray(F, xp, x0 + 2 * stride + i), a2);
            a3 = wv.fma(FloatVector.fromArray(F, xp, x0 + 3 * stride + i), a3);
        }
        Bf16Matrix.store(out, o, a0.reduceLanes(VectorOperators.ADD) + b, accumulate);
        Bf16Matrix.store(out, o + rows, a1.reduceLanes(VectorOperators.ADD) + b, accumulate);
        Bf16Matrix.store(out, o + 2 * rows, a2.reduceLanes(VectorOperators.ADD) + b, accumulate);
        Bf16Matrix.store(out, o + 3 * rows, a3.reduceLanes(VectorOperators.ADD) + b, accumulate);
    }
}
