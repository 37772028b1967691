package ai.arbor.gpu.model.quant;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class Fp8WeightTest {

    @Test
    void eachRowGetsItsOwnScaleFromItsLargestMagnitude() {
        float[][] w = {
                {0.001f, -0.004f, 0.002f, 0.0005f},
                {100f, -300f, 7f, 0f},
                {0f, 0f, 0f, 0f},
        };
        Fp8Weight q = Fp8Weight.quantize("w", 3, 4, (r, dst) -> System.arraycopy(w[r], 0, dst, 0, 4));
        assertEquals(0.004f / 448, q.scales()[0]);
        assertEquals(300f / 448, q.scales()[1]);
        assertEquals(1f, q.scales()[2], "an all-zero row");
        // The row's largest magnitude lands on +-448 and comes back (to float rounding of the scale).
        float[] back = new float[4];
        q.dequantizeRow(0, back, 0);
        assertEquals(-0.004f, back[1], 1e-9f);
        q.dequantizeRow(1, back, 0);
        assertEquals(-300f, back[1], 1e-4f);
        assertEquals(0f, back[3]);
        // Row 0's small weights are not flushed by row 1's large ones: per-tensor scaling would zero them all.
        q.dequantizeRow(0, back, 0);
        for (int c = 0; c < 4; c++) assertEquals(w[0][c], back[c], Math.abs(w[0][c]) / 16, "column " + c);
        q.dequantizeRow(2, back, 0);
        assertArrayEquals(new float[4], back);
    }

    @Test
    void roundTripErrorIsBoundedPerElement() {
        Random rnd = new Random(3);
        int rows = 64, cols = 300;
        float[][] w = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            double rowScale = Math.pow(10, rnd.nextInt(7) - 4);
            for (int c = 0; c < cols; c++) w[r][c] = (float) (rnd.nextGaussian() * rowScale);
        }
        Fp8Weight q = Fp8Weight.quantize("w", rows, cols, (r, dst) -> System.arraycopy(w[r], 0, dst, 0, cols));
        float[] back = new float[cols];
        for (int r = 0; r < rows; r++) {
            q.dequantizeRow(r, back, 0);
            float s = q.scales()[r];
            for (int c = 0; c < cols; c++) {
                // half an ulp: 2^-4 relative in the normal range, half of the subnormal step 2^-9 (times the scale)
                // below it; a little slack for the float rounding of w / s and of the product with s
                float bound = Math.max(Math.abs(w[r][c]) / 16, s * 0x1p-10f) * 1.0001f;
                assertTrue(Math.abs(back[c] - w[r][c]) <= bound, "w[" + r + "][" + c + "] = " + w[r][c] + " -> " + back[c]);
            }
        }
        assertEquals((long) rows * cols + 4L * rows, q.bytes());
    }

    @Test
    void nothingSaturatesWithPerChannelScales() {
        float[] row = {-1e20f, 3e19f, 1f};
        Fp8Weight q = Fp8Weight.quantize("w", 1, 3, (r, dst) -> System.arraycopy(row, 0, dst, 0, 3));
        assertEquals((byte) 0xFE, q.codes()[0]);
        float[] back = new float[3];
        q.dequantizeRow(0, back, 0);
        assertEquals(-1e20f, back[0], 1e14f);
        assertEquals(3e19f, back[1], 3e19f / 16);
    }

    @Test
    void nanOrInfinityIsRefusedNamingTheWeight() {
        for (float bad : new float[]{Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Fp8Weight.quantize("model.layers.0.mlp.up_proj.weight",
                    2, 3, (r, dst) -> { dst[0] = 1; dst[1] = r == 1 ? bad : 2; dst[2] = 3; }));
            assertEquals("cannot quantize model.layers.0.mlp.up_proj.weight to fp8: row 1 column 1 holds " + bad,
                    e.getMessage());
        }
    }

    @Test
    void shapesMustAgree() {
        assertThrows(IllegalArgumentException.class, () -> new Fp8Weight("w", 2, 3, new byte[5], new float[2]));
        assertThrows(IllegalArgumentException.class, () -> new Fp8Weight("w", 2, 3, new byte[6], new float[3]));
    }
}
