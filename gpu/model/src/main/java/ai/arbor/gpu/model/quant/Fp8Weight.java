package ai.arbor.gpu.model.quant;

/**
 * A weight matrix {@code [rows, cols]} in FP8 E4M3 with one float scale per output channel (row), as vLLM's
 * {@code --quantization fp8} makes at load: {@code W[r][c] ≈ decode(codes[r * cols + c]) * scales[r]}. Per-channel
 * scales keep a row of small weights from being flushed to zero by a large one elsewhere in the matrix.
 *
 * @param codes  row-major E4M3 codes; never the NaN code (quantizing refuses non-finite weights)
 * @param scales one positive, finite scale per row
 */
public record Fp8Weight(String name, int rows, int cols, byte[] codes, float[] scales) {

    /** Supplies row {@code r} of the full-precision matrix into {@code dst[0..cols)}. */
    @FunctionalInterface
    public interface RowSource {
        void row(int r, float[] dst);
    }

    public Fp8Weight {
        if ((long) rows * cols != codes.length || scales.length != rows) {
            throw new IllegalArgumentException(name + ": " + codes.length + " codes and " + scales.length
                    + " scales do not make a [" + rows + ", " + cols + "] matrix");
        }
    }

    /**
     * Quantizes per row: the scale maps the row's largest magnitude to {@link E4m3#MAX}, so nothing saturates and the
     * row keeps E4M3's relative precision (2^-4) down to {@code max / 2^15}. An all-zero row gets scale 1.
     *
     * @throws IllegalArgumentException naming the tensor, row and column of a NaN or infinite weight: BF16 would
     *                                  carry it into every logit, FP8 could only hide it
     */
    public static Fp8Weight quantize(String name, int rows, int cols, RowSource source) {
        byte[] codes = new byte[Math.multiplyExact(rows, cols)];
        float[] scales = new float[rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            source.row(r, row);
            float amax = 0;
            for (int c = 0; c < cols; c++) {
                float v = row[c];
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("cannot quantize " + name + " to fp8: row " + r + " column " + c
                            + " holds " + v);
                }
                amax = Math.max(amax, Math.abs(v));
            }
            float scale = amax == 0 ? 1f : amax / E4m3.MAX;
            // A row of subnormal floats would give a subnormal scale, and dividing by it could overflow to infinity.
            if (!(scale >= Float.MIN_NORMAL)) scale = Float.MIN_NORMAL;
            scales[r] = scale;
            int base = r * cols;
            for (int c = 0; c < cols; c++) codes[base + c] = E4m3.encode(row[c] / scale);
        }
        return new Fp8Weight(name, rows, cols, codes, scales);
    }

    /** Row {@code r} dequantized into {@code dst[offset..offset+cols)}. */
    public void dequantizeRow(int r, float[] dst, int offset) {
        float s = scales[r];
        int base = r * cols;
        for (int c = 0; c < cols; c++) dst[offset + c] = E4m3.decode(codes[base + c]) * s;
    }

    /** Bytes held: one per weight plus the scales. */
    public long bytes() { return codes.length + 4L * rows; }
}
