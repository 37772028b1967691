package ai.arbor.gpu.model.quant;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class E4m3Test {

    @Test
    void decodesTheFormatsLandmarks() {
        assertEquals(448f, E4m3.decode((byte) 0x7E));
        assertEquals(-448f, E4m3.decode((byte) 0xFE));
        assertEquals(0x1p-6f, E4m3.decode((byte) 0x08), "smallest normal");
        assertEquals(0x1p-9f, E4m3.decode((byte) 0x01), "smallest subnormal");
        assertEquals(7 * 0x1p-9f, E4m3.decode((byte) 0x07), "largest subnormal");
        assertEquals(1f, E4m3.decode((byte) 0x38));
        assertEquals(1.125f, E4m3.decode((byte) 0x39));
        assertTrue(Float.isNaN(E4m3.decode((byte) 0x7F)));
        assertTrue(Float.isNaN(E4m3.decode((byte) 0xFF)));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(E4m3.decode((byte) 0x80)));
    }

    @Test
    void everyFiniteCodeRoundTrips() {
        for (int c = 0; c < 256; c++) {
            if ((c & 0x7F) == 0x7F) continue;
            assertEquals((byte) c, E4m3.encode(E4m3.decode((byte) c)), "code " + Integer.toHexString(c));
        }
    }

    /** Against a brute-force search over every finite code: nearest value, ties to the even code. */
    @Test
    void roundsToNearestEven() {
        Random rnd = new Random(1);
        for (int i = 0; i < 200_000; i++) {
            float x = switch (i % 4) {
                case 0 -> (float) (rnd.nextGaussian() * 4);
                case 1 -> (float) (rnd.nextGaussian() * 0.01);
                case 2 -> (rnd.nextFloat() - 0.5f) * 900;
                // exact midpoints between neighbouring codes: the tie cases
                default -> midpoint(rnd.nextInt(0x7E), rnd.nextBoolean());
            };
            assertEquals(reference(x), E4m3.encode(x), "x = " + x);
        }
    }

    @Test
    void relativeErrorIsAtMostHalfAnUlpInTheNormalRange() {
        Random rnd = new Random(2);
        for (int i = 0; i < 100_000; i++) {
            float x = (float) Math.scalb(1 + rnd.nextDouble(), rnd.nextInt(15) - 6) * (rnd.nextBoolean() ? 1 : -1);
            if (Math.abs(x) > E4m3.MAX) continue;
            float back = E4m3.decode(E4m3.encode(x));
            assertTrue(Math.abs(back - x) <= Math.abs(x) / 16, x + " -> " + back);
        }
        // Subnormals: an absolute error of at most half of 2^-9.
        for (int i = 0; i < 10_000; i++) {
            float x = rnd.nextFloat() * 0x1p-6f;
            assertTrue(Math.abs(E4m3.decode(E4m3.encode(x)) - x) <= 0x1p-10f, "x = " + x);
        }
    }

    @Test
    void saturatesInsteadOfOverflowing() {
        assertEquals((byte) 0x7E, E4m3.encode(449f));
        assertEquals((byte) 0x7E, E4m3.encode(480f), "480 would be the NaN pattern");
        assertEquals((byte) 0x7E, E4m3.encode(1e30f));
        assertEquals((byte) 0x7E, E4m3.encode(Float.POSITIVE_INFINITY));
        assertEquals((byte) 0xFE, E4m3.encode(-1e6f));
        assertEquals((byte) 0xFE, E4m3.encode(Float.NEGATIVE_INFINITY));
        assertEquals((byte) 0x00, E4m3.encode(0x1p-11f), "below half the smallest subnormal: zero");
        assertEquals((byte) 0x80, E4m3.encode(-0x1p-12f));
    }

    @Test
    void nanStaysNaN() {
        assertEquals(E4m3.NAN, E4m3.encode(Float.NaN));
        assertEquals((byte) 0xFF, E4m3.encode(Float.intBitsToFloat(0xFFC00000)));
        assertTrue(Float.isNaN(E4m3.decode(E4m3.encode(Float.NaN))));
    }

    private static float midpoint(int code, boolean negative) {
        float m = (E4m3.decode((byte) code) + E4m3.decode((byte) (code + 1))) / 2;
        return negative ? -m : m;
    }

    private static byte reference(float x) {
        int sign = x < 0 || (x == 0 && 1 / x < 0) ? 0x80 : 0;
        double a = Math.min(Math.abs((double) x), E4m3.MAX);
        int best = 0;
        for (int c = 1; c <= 0x7E; c++) {
            double d = Math.abs(E4m3.decode((byte) c) - a);
            double bd = Math.abs(E4m3.decode((byte) best) - a);
            if (d < bd || (d == bd && (c & 1) == 0)) best = c;
        }
        return (byte) (sign | best);
    }
}
