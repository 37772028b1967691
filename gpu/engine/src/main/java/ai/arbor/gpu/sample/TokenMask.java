package ai.arbor.gpu.sample;

import java.util.Arrays;

/** Applies an allowed-token bitmask (xgrammar's layout, as the device sampler takes it) to a row of logits. */
public final class TokenMask {
    private TokenMask() {}

    /**
     * Sets every logit whose bit is clear to negative infinity; ids past the mask are disallowed.
     *
     * @param allowed bit {@code t % 32} of word {@code t / 32} set when token t is allowed
     */
    public static void apply(float[] logits, int[] allowed) {
        int n = logits.length;
        int words = Math.min(allowed.length, (n + 31) >>> 5);
        for (int w = 0; w < words; w++) {
            int bits = allowed[w];
            if (bits == -1) continue;
            int base = w << 5;
            int end = Math.min(base + 32, n);
            if (bits == 0) {
                Arrays.fill(logits, base, end, Float.NEGATIVE_INFINITY);
                continue;
            }
            for (int i = base; i < end; i++) {
                if ((bits & (1 << (i - base))) == 0) logits[i] = Float.NEGATIVE_INFINITY;
            }
        }
        if (words << 5 < n) Arrays.fill(logits, words << 5, n, Float.NEGATIVE_INFINITY);
    }

    /** True when no token is allowed. */
    public static boolean isEmpty(int[] allowed) {
        for (int w : allowed) if (w != 0) return false;
        return true;
    }
}
