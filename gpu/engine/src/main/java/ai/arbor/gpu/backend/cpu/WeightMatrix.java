package ai.arbor.gpu.backend.cpu;

/**
 * A weight matrix {@code [rows, cols]}, converted once at load into the layout its kernel streams. Multiplying it by a
 * batch of activation rows reads every weight once for all tokens of the batch, which is what makes a batch of decode
 * tokens nearly as cheap as one.
 */
interface WeightMatrix {

    int rows();

    int cols();

    /** Bytes the matrix occupies in memory (what one pass over it streams). */
    long bytes();

    /**
     * {@code out[t][r] (+)= sum_c W[r][c] * x[t][c] + bias[r]} for {@code t < numTokens}; {@code x} is row-major with row
     * length {@code cols()}, {@code out} row-major with row length {@code rows()}.
     *
     * @param bias       per-row bias, or null
     * @param accumulate add to {@code out} instead of overwriting it (the residual connection)
     */
    void matmul(float[] x, int numTokens, float[] out, float[] bias, boolean accumulate, WorkerPool pool);

    /** Row {@code r} as fp32 into {@code dst[dstOffset..dstOffset+cols)} (embedding lookup). */
    void row(int r, float[] dst, int dstOffset);
}
