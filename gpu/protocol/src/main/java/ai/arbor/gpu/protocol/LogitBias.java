package ai.arbor.gpu.protocol;

import java.util.Arrays;

/**
 * OpenAI's {@code logit_bias}: values added to the logits of some token ids before sampling (-100 effectively bans a
 * token, 100 nearly forces it).
 */
public record LogitBias(int[] tokenIds, float[] values) {
    public static final LogitBias NONE = new LogitBias(new int[0], new float[0]);

    public LogitBias {
        if (tokenIds.length != values.length) {
            throw new IllegalArgumentException("logit_bias has " + tokenIds.length + " ids but " + values.length + " values");
        }
    }

    public boolean isEmpty() { return tokenIds.length == 0; }

    public int size() { return tokenIds.length; }

    /** Adds the biases to a logits row in place (ids outside the row are ignored: validated upstream). */
    public void applyTo(float[] logits) {
        for (int i = 0; i < tokenIds.length; i++) {
            int t = tokenIds[i];
            if (t >= 0 && t < logits.length) logits[t] += values[i];
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogitBias b && Arrays.equals(tokenIds, b.tokenIds) && Arrays.equals(values, b.values);
    }

    @Override
    public int hashCode() { return 31 * Arrays.hashCode(tokenIds) + Arrays.hashCode(values); }

    @Override
    public String toString() { return "LogitBias" + Arrays.toString(tokenIds) + "=" + Arrays.toString(values); }
}
