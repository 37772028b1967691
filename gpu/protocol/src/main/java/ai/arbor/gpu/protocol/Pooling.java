package ai.arbor.gpu.protocol;

/**
 * How an embedding is pooled from a prompt's final hidden states: the last token's (vLLM's default for decoder
 * models), the mean over all tokens, or the first token's (a model directory declares it: {@code PoolingConfig}).
 */
public enum Pooling {
    LAST, MEAN, CLS;

    /**
     * Pools {@code hidden} (tokens x {@code dim}, row-major) into one vector of unit length (L2), as vLLM's embed
     * task normalises.
     */
    public float[] pool(float[] hidden, int tokens, int dim) {
        float[] out = new float[dim];
        switch (this) {
            case LAST -> System.arraycopy(hidden, (tokens - 1) * dim, out, 0, dim);
            case CLS -> System.arraycopy(hidden, 0, out, 0, dim);
            case MEAN -> {
                double[] sum = new double[dim];
                for (int t = 0; t < tokens; t++) for (int i = 0; i < dim; i++) sum[i] += hidden[t * dim + i];
                for (int i = 0; i < dim; i++) out[i] = (float) (sum[i] / tokens);
            }
        }
        return normalize(out);
    }

    /** {@code v} scaled in place to unit length (L2); a zero vector stays zero. */
    public static float[] normalize(float[] v) {
        double norm = 0;
        for (float x : v) norm += (double) x * x;
        float scale = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
        for (int i = 0; i < v.length; i++) v[i] *= scale;
        return v;
    }
}
