package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MatmulKernelTest {
    private static final WorkerPool POOL = new WorkerPool(2);

    @AfterAll
    static void close() { POOL.close(); }

    /** Shapes around the kernels' edges: odd columns, less than one vector, token counts around the tile of 4. */
    static final int[][] SHAPES = {{1, 1}, {3, 7}, {17, 31}, {40, 32}, {33, 64}, {64, 96}, {9, 100}, {130, 257}};

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F32"}) // F8_E4M3 is read with its scale (Fp8CheckpointBackendTest)
    void matmulMatchesNaiveReference(DType dtype) {
        Random rnd = new Random(7);
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            Tensor t = SyntheticModel.tensor(rnd, dtype, "w", 1.0, 0, rows, cols);
            WeightMatrix m = TensorReader.matrix(t, rows, cols);
            if (dtype == DType.BF16) assertInstanceOf(Bf16Matrix.class, m);
            else assertInstanceOf(F32Matrix.class, m);
            double[] w = SyntheticModel.values(t);
            for (int tokens : new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 70}) { // 70: more than one token block
                float[] x = randomFloats(rnd, tokens * cols);
                float[] bias = randomFloats(rnd, rows);
                float[] prior = randomFloats(rnd, tokens * rows);
                for (boolean accumulate : new boolean[]{false, true}) {
                    float[] out = prior.clone();
                    m.matmul(x, tokens, out, bias, accumulate, POOL);
                    for (int tk = 0; tk < tokens; tk++) {
                        for (int r = 0; r < rows; r++) {
                            double expect = bias[r] + (accumulate ? prior[tk * rows + r] : 0);
                            double scale = Math.abs(bias[r]);
                            for (int c = 0; c < cols; c++) {
                                expect += w[r * cols + c] * x[tk * cols + c];
                                scale += Math.abs(w[r * cols + c] * x[tk * cols + c]);
                            }
                            assertEquals(expect, out[tk * rows + r], 1e-5 * (scale + 1),
                                    dtype + " [" + rows + "x" + cols + "] tokens=" + tokens + " row " + r);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F32"}) // F8_E4M3 is read with its scale (Fp8CheckpointBackendTest)
    void rowReturnsTheStoredValues(DType dtype) {
        Random rnd = new Random(3);
        Tensor t = SyntheticModel.tensor(rnd, dtype, "embed", 1.0, 0, 11, 45);
        WeightMatrix m = TensorReader.matrix(t, 11, 45);
        double[] w = SyntheticModel.values(t);
        float[] dst = new float[50];
        for (int r = 0; r < 11; r++) {
            m.row(r, dst, 5);
            for (int c = 0; c < 45; c++) assertEquals((float) w[r * 45 + c], dst[5 + c], "row " + r + " col " + c);
        }
    }

    @Test
    void stackedMatricesKeepPartOrder() {
        Random rnd = new Random(5);
        Tensor a = SyntheticModel.tensor(rnd, DType.BF16, "a", 1.0, 0, 3, 40);
        Tensor b = SyntheticModel.tensor(rnd, DType.BF16, "b", 1.0, 0, 5, 40);
        WeightMatrix m = TensorReader.matrix(List.of(a, b), new int[]{3, 5}, 40);
        assertEquals(8, m.rows());
        float[] row = new float[40];
        m.row(4, row, 0);
        double[] bv = SyntheticModel.values(b);
        for (int c = 0; c < 40; c++) assertEquals((float) bv[40 + c], row[c]);
    }

    @Test
    void wrongShapeIsRejectedWithTheTensorName() {
        Tensor t = SyntheticModel.tensor(new Random(1), DType.BF16, "model.layers.0.mlp.up_proj.weight", 1, 0, 4, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorReader.matrix(t, 4, 9));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.up_proj.weight"), e.getMessage());
    }

    @Test
    void halfAndBfloatConversions() {
        assertEquals(1.0f, Bf16.bf16ToFloat(0x3F80));
        assertEquals(-2.0f, Bf16.bf16ToFloat(0xC000));
        assertEquals((short) 0x3F80, Bf16.floatToBf16(1.0f));
        // 1 + 2^-8 lies exactly between two bf16 values: ties go to the even one (1.0).
        assertEquals((short) 0x3F80, Bf16.floatToBf16(1.00390625f));
        assertEquals(1.0f, Bf16.f16ToFloat(0x3C00));
        assertEquals(-2.0f, Bf16.f16ToFloat(0xC000));
        assertEquals(65504f, Bf16.f16ToFloat(0x7BFF));
        assertEquals(0x1p-24f, Bf16.f16ToFloat(0x0001));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.f16ToFloat(0x7C00));
        assertTrue(Float.isNaN(Bf16.f16ToFloat(0x7E00)));
        for (int h = 0; h < 0x7C00; h += 37) assertEquals(SyntheticModel.f16ToDouble(h), Bf16.f16ToFloat(h), 0.0);
    }

    @Test
    void workerPoolCoversEveryIndexOnceAndPropagatesErrors() {
        int n = 10_001;
        int[] hits = new int[n];
        POOL.parallelFor(n, 1, (from, to) -> {
            for (int i = from; i < to; i++) hits[i]++;
        });
        for (int i = 0; i < n; i++) assertEquals(1, hits[i], "index " + i);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> POOL.parallelFor(1000, 1,
                (from, to) -> { throw new IllegalStateException("boom"); }));
        assertEquals("boom", e.getMessage());
    }

    static float[] randomFloats(Random rnd, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) rnd.nextGaussian();
        return f;
    }
}
