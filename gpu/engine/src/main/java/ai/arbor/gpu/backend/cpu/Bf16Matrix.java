package ai.arbor.gpu.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A BF16 matrix kept as BF16 (half the bytes of fp32, so half the memory traffic of a decode step). Each row is the
 * checkpoint's raw bytes read as little-endian ints, zero-padded to a whole number of blocks of {@code 2 * lanes}
 * elements: int {@code j} of a block holds element {@code 2j} in its low half and {@code 2j+1} in its high half. A
 * shift left by 16 turns the low halves into fp32 lanes and masking the low 16 bits turns the high halves into fp32
 * lanes, so widening costs two cheap lane-wise ops. The activations are permuted to match (even elements of each block
 * first, then odd ones) once per matmul, which is cheap next to streaming the weights.
 */
final class Bf16Matrix implements WeightMatrix {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int LANES = F.length();
    /** Elements per block: one int vector holds {@code 2 * LANES} bf16 values. */
    static final int BLOCK = 2 * LANES;
    private static final int TOKEN_TILE = 4;
    private static final int TOKEN_BLOCK = 64;
    /** Rows per work item of the thread pool: a multiple of 4, so the four-row kernel covers every item. */
    private static final int ROW_TILE = 8;

    private final int rows;
    private final int cols;
    private final int paddedCols;
    /** Ints per row: {@code paddedCols / 2}. */
    private final int stride;
    private final int[] data;

    /** @param rowBits16 the bf16 bit patterns, row-major {@code [rows, cols]}, in the low 16 bits of each value */
    static Bf16Matrix fromBits(int rows, int cols, RowSource rowBits16) {
        return new Bf16Matrix(rows, cols, rowBits16);
    }

    /** Supplies row {@code r}'s bf16 bit patterns into {@code dst[0..cols)}. */
    @FunctionalInterface
    interface RowSource {
        void row(int r, short[] dst);
    }

    private Bf16Matrix(int rows, int cols, RowSource source) {
        this.rows = rows;
        this.cols = cols;
        this.paddedCols = roundUp(cols, BLOCK);
        this.stride = paddedCols / 2;
        long total = (long) rows * stride;
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("matrix [" + rows + ", " + cols + "] is too large for one Java array");
        }
        this.data = new int[(int) total];
        short[] buf = new short[cols];
        for (int r = 0; r < rows; r++) {
            source.row(r, buf);
            int base = r * stride;
            for (int c = 0; c + 1 < cols; c += 2) {
                data[base + (c >> 1)] = (buf[c] & 0xFFFF) | (buf[c + 1] << 16);
            }
            if ((cols & 1) != 0) data[base + (cols >> 1)] = buf[cols - 1] & 0xFFFF;
        }
    }

    static int roundUp(int n, int m) { return (n + m - 1) / m * m; }

    @Override public int rows() { return rows; }

    @Override public int cols() { return cols; }

    @Override public long bytes() { return (long) data.length * 4; }

    @Override
    public void row(int r, float[] dst, int dstOffset) {
        int base = r * stride;
        for (int c = 0; c < cols; c++) {
            int packed = data[base + (c >> 1)];
            dst[dstOffset + c] = (c & 1) == 0
                    ? Float.intBitsToFloat(packed << 16)
                    : Float.intBitsToFloat(packed & 0xFFFF0000);
        }
    }

    @Override
    public void matmul(float[] x, int numTokens, float[] out, float[] bias, boolean accumulate, WorkerPool pool) {
        float[] xp = permute(x, numTokens);
        // Work is split in whole row tiles so every chunk but the last runs the 4-row kernels.
        int tiles = (rows + ROW_TILE - 1) / ROW_TILE;
        pool.parallelFor(tiles, WorkerPool.minChunk((long) ROW_TILE * paddedCols * numTokens), (from, to) -> rowsTimesTokens(xp, numTokens, out, bias, accumulate,
                from * ROW_TILE, Math.min(rows, to * ROW_TILE)));
    }

    /** Pads each activation row to {@code paddedCols} and splits every block into its even then odd elements. */
    private float[] permute(float[] x, int numTokens) {
        float[] xp = new float[numTokens * paddedCols];
        for (int t = 0; t < numTokens; t++) {
            int src = t * cols;
            int dst = t * paddedCols;
            for (int c = 0; c < cols; c++) {
                int block = c / BLOCK;
                int within = c - block * BLOCK;
                int lane = (within >> 1) + ((within & 1) == 0 ? 0 : LANES);
                xp[dst + block * BLOCK + lane] = x[src + c];
            }
        }
        return xp;
    }

    /**
     * Prefill batches are cut into blocks of tokens whose activations stay in the L2 cache while this thread's rows
     * pass over them; a decode batch is a single block.
     */
    private void rowsTimesTokens(float[] xp, int numTokens, float[] out, float[] bias, boolean accumulate,
                                 int fromRow, int toRow) {
        for (int t0 = 0; t0 < numTokens; t0 += TOKEN_BLOCK) {
            int t1 = Math.min(numTokens, t0 + TOKEN_BLOCK);
            int r = fromRow;
            if (t1 - t0 >= TOKEN_TILE) {
                for (; r + 4 <= toRow; r += 4) {
                    int t = t0;
                    for (; t + TOKEN_TILE <= t1; t += TOKEN_TILE) dot4x4(r, xp, t, out, bias, accumulate);
                    for (; t < t1; t++) {
                        for (int rr = r; rr < r + 4; rr++) single(rr, xp, t, out, bias, accumulate);
                    }
                }
            }
            for (; r < toRow; r++) {
                int t = t0;
                for (; t + TOKEN_TILE <= t1; t += TOKEN_TILE) {
                    dot4(r * stride, xp, t * paddedCols, out, t * rows + r, bias == null ? 0f : bias[r], accumulate);
                }
                for (; t < t1; t++) single(r, xp, t, out, bias, accumulate);
            }
        }
    }

    private void single(int r, float[] xp, int t, float[] out, float[] bias, boolean accumulate) {
        store(out, t * rows + r, dot1(r * stride, xp, t * paddedCols) + (bias == null ? 0f : bias[r]), accumulate);
    }

    /** Four rows times four tokens: 16 accumulators; each weight vector is used four times, each x vector four. */
    private void dot4x4(int r, float[] xp, int t, float[] out, float[] bias, boolean accumulate) {
        int xs = paddedCols;
        int x0 = t * xs;
        int w0 = r * stride;
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        for (int i = 0; i < stride; i += LANES) {
            for (int half = 0; half < 2; half++) {
                FloatVector w0v = widen(IntVector.fromArray(I, data, w0 + i), half);
                FloatVector w1v = widen(IntVector.fromArray(I, data, w0 + stride + i), half);
                FloatVector w2v = widen(IntVector.fromArray(I, data, w0 + 2 * stride + i), half);
                FloatVector w3v = widen(IntVector.fromArray(I, data, w0 + 3 * stride + i), half);
                int xi = x0 + 2 * i + half * LANES;
                FloatVector x = FloatVector.fromArray(F, xp, xi);
                a00 = w0v.fma(x, a00); a10 = w1v.fma(x, a10); a20 = w2v.fma(x, a20); a30 = w3v.fma(x, a30);
                x = FloatVector.fromArray(F, xp, xi + xs);
                a01 = w0v.fma(x, a01); a11 = w1v.fma(x, a11); a21 = w2v.fma(x, a21); a31 = w3v.fma(x, a31);
                x = FloatVector.fromArray(F, xp, xi + 2 * xs);
                a02 = w0v.fma(x, a02); a12 = w1v.fma(x, a12); a22 = w2v.fma(x, a22); a32 = w3v.fma(x, a32);
                x = FloatVector.fromArray(F, xp, xi + 3 * xs);
                a03 = w0v.fma(x, a03); a13 = w1v.fma(x, a13); a23 = w2v.fma(x, a23); a33 = w3v.fma(x, a33);
            }
        }
        int o = t * rows + r;
        float b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        if (bias != null) { b0 = bias[r]; b1 = bias[r + 1]; b2 = bias[r + 2]; b3 = bias[r + 3]; }
        store(out, o, a00.reduceLanes(VectorOperators.ADD) + b0, accumulate);
        store(out, o + 1, a10.reduceLanes(VectorOperators.ADD) + b1, accumulate);
        store(out, o + 2, a20.reduceLanes(VectorOperators.ADD) + b2, accumulate);
        store(out, o + 3, a30.reduceLanes(VectorOperators.ADD) + b3, accumulate);
        o += rows;
        store(out, o, a01.reduceLanes(VectorOperators.ADD) + b0, accumulate);
        store(out, o + 1, a11.reduceLanes(VectorOperators.ADD) + b1, accumulate);
        store(out, o + 2, a21.reduceLanes(VectorOperators.ADD) + b2, accumulate);
        store(out, o + 3, a31.reduceLanes(VectorOperators.ADD) + b3, accumulate);
        o += rows;
        store(out, o, a02.reduceLanes(VectorOperators.ADD) + b0, accumulate);
        store(out, o + 1, a12.reduceLanes(VectorOperators.ADD) + b1, accumulate);
        store(out, o + 2, a22.reduceLanes(VectorOperators.ADD) + b2, accumulate);
        store(out, o + 3, a32.reduceLanes(VectorOperators.ADD) + b3, accumulate);
        o += rows;
        store(out, o, a03.reduceLanes(VectorOperators.ADD) + b0, accumulate);
        store(out, o + 1, a13.reduceLanes(VectorOperators.ADD) + b1, accumulate);
        store(out, o + 2, a23.reduceLanes(VectorOperators.ADD) + b2, accumulate);
        store(out, o + 3, a33.reduceLanes(VectorOperators.ADD) + b3, accumulate);
    }

    /** The even (half 0) or odd (half 1) bf16 elements of a packed vector as fp32 lanes. */
    private static FloatVector widen(IntVector packed, int half) {
        return (half == 0 ? packed.lanewise(VectorOperators.LSHL, 16) : packed.and(0xFFFF0000)).reinterpretAsFloats();
    }

    private float dot1(int w, float[] xp, int x0) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        for (int i = 0; i < stride; i += LANES) {
            IntVector packed = IntVector.fromArray(I, data, w + i);
            FloatVector even = packed.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector odd = packed.and(0xFFFF0000).reinterpretAsFloats();
            int xi = x0 + 2 * i;
            acc0 = even.fma(FloatVector.fromArray(F, xp, xi), acc0);
            acc1 = odd.fma(FloatVector.fromArray(F, xp, xi + LANES), acc1);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /** Four tokens share each loaded weight vector. */
    private void dot4(int w, float[] xp, int x0, float[] out, int o, float b, boolean accumulate) {
        int xs = paddedCols;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F);
        for (int i = 0; i < stride; i += LANES) {
            IntVector packed = IntVector.fromArray(I, data, w + i);
            FloatVector even = packed.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector odd = packed.and(0xFFFF0000).reinterpretAsFloats();
            int xi = x0 + 2 * i;
            a0 = even.fma(FloatVector.fromArray(F, xp, xi), a0);
            a1 = even.fma(FloatVector.fromArray(F, xp, xi + xs), a1);
            a2 = even.fma(FloatVector.fromArray(F, xp, xi + 2 * xs), a2);
            a3 = even.fma(FloatVector.fromArray(F, xp, xi + 3 * xs), a3);
            a0 = odd.fma(FloatVector.fromArray(F, xp, xi + LANES), a0);
            a1 = odd.fma(FloatVector.fromArray(F, xp, xi + LANES + xs), a1);
            a2 = odd.fma(FloatVector.fromArray(F, xp, xi + LANES + 2 * xs), a2);
            a3 = odd.fma(FloatVector.fromArray(F, xp, xi + LANES + 3 * xs), a3);
        }
        store(out, o, a0.reduceLanes(VectorOperators.ADD) + b, accumulate);
        store(out, o + rows, a1.reduceLanes(VectorOperators.ADD) + b, accumulate);
        store(out, o + 2 * rows, a2.reduceLanes(VectorOperators.ADD) + b, accumulate);
        store(out, o + 3 * rows, a3.reduceLanes(VectorOperators.ADD) + b, accumulate);
    }

    static void store(float[] out, int o, float v, boolean accumulate) {
        out[o] = accumulate ? out[o] + v : v;
    }
}
