package ai.arbor.gpu.sample;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"), the counter-based generator the device
 * sampler draws with: the uniform for a request's {@code step}-th token is a pure function of (seed, step), so a
 * request's output depends on its seed alone, never on which requests share its batch or in which row it sits. This
 * is the host copy of {@code sampling.cu}'s {@code philox_uniform}; the two must return the same bits.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {}

    /** 64 random bits for counter (step, 0, 0, 0) under key seed. */
    public static long bits(long seed, int step) {
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        int c0 = step, c1 = 0, c2 = 0, c3 = 0;
        for (int r = 0; r < 10; r++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n1 = (int) p1;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            int n3 = (int) p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        return ((long) c0 << 32) | (c1 & 0xFFFFFFFFL);
    }

    /** A uniform double in [0, 1) from the top 53 of {@link #bits}. */
    public static double uniform(long seed, int step) {
        return (bits(seed, step) >>> 11) * 0x1.0p-53;
    }
}
