package ai.arbor.gpu.backend.cpu;

/** Root-mean-square layer norm: {@code x / sqrt(mean(x^2) + eps) * weight}, per row (or per head for q/k norms). */
final class RmsNorm {
    private RmsNorm() {}

    /** Normalizes {@code count} consecutive vectors of {@code weight.length} values from {@code src} into {@code dst}. */
    static void apply(float[] src, float[] dst, int count, float[] weight, float eps) {
        apply(src, 0, dst, 0, weight.length, count, weight.length, weight, eps);
    }

    /**
     * Normalizes {@code count} vectors of length {@code dim} that start {@code step} apart, at {@code srcOffset} in
     * src and {@code dstOffset} in dst (in place when src == dst and the offsets are equal).
     */
    static void apply(float[] src, int srcOffset, float[] dst, int dstOffset, int dim, int count, int step,
                      float[] weight, float eps) {
        for (int v = 0; v < count; v++) {
            int s = srcOffset + v * step;
            int d = dstOffset + v * step;
            double sumSq = 0;
            for (int i = 0; i < dim; i++) sumSq += (double) src[s + i] * src[s + i];
            float inv = (float) (1.0 / Math.sqrt(sumSq / dim + eps));
            for (int i = 0; i < dim; i++) dst[d + i] = weight[i] * (src[s + i] * inv);
        }
    }
}
