package ai.arbor.gpu.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.Tensor;
import ai.arbor.gpu.model.Weights;
import ai.arbor.gpu.model.quant.E4m3;
import ai.arbor.gpu.model.quant.Fp8Weight;
import ai.arbor.gpu.model.quant.Quantization;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The FP8 kernel against a double-precision product with the dequantized weights. */
class Fp8MatrixTest {
    private static final WorkerPool POOL = new WorkerPool(2);

    @AfterAll
    static void close() { POOL.close(); }

    @Test
    void matmulMatchesTheDequantizedProduct() {
        Random rnd = new Random(11);
        for (int[] shape : MatmulKernelTest.SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            Fp8Weight w = wideRangeWeight(rnd, rows, cols);
            Fp8Matrix m = new Fp8Matrix(List.of(w));
            double[] dq = dequantized(w);
            for (int tokens : new int[]{1, 2, 3, 4, 5, 7, 8, 9, 70}) {
                // activations from 1e-6 to 1e4 in magnitude: the 2^64 pre-scale must keep every product exact
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(11) - 6));
                float[] bias = MatmulKernelTest.randomFloats(rnd, rows);
                float[] prior = MatmulKernelTest.randomFloats(rnd, tokens * rows);
                for (boolean accumulate : new boolean[]{false, true}) {
                    float[] out = prior.clone();
                    m.matmul(x, tokens, out, bias, accumulate, POOL);
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            double expect = bias[r] + (accumulate ? prior[t * rows + r] : 0);
                            double scale = Math.abs(bias[r]) + (accumulate ? Math.abs(prior[t * rows + r]) : 0);
                            for (int c = 0; c < cols; c++) {
                                expect += dq[r * cols + c] * x[t * cols + c];
                                scale += Math.abs(dq[r * cols + c] * x[t * cols + c]);
                            }
                            assertEquals(expect, out[t * rows + r], 1e-5 * scale + 1e-30,
                                    "[" + rows + "x" + cols + "] tokens=" + tokens + " row " + r + " token " + t);
                        }
                    }
                }
            }
        }
    }

    @Test
    void rowsDequantizeForTheEmbeddingLookup() {
        Random rnd = new Random(12);
        Fp8Weight w = wideRangeWeight(rnd, 5, 45);
        Fp8Matrix m = new Fp8Matrix(List.of(w));
        float[] dst = new float[50];
        float[] expect = new float[45];
        for (int r = 0; r < 5; r++) {
            m.row(r, dst, 5);
            w.dequantizeRow(r, expect, 0);
            for (int c = 0; c < 45; c++) assertEquals(expect[c], dst[5 + c], Math.abs(expect[c]) * 1e-6f);
        }
        int stride = Bf16Matrix.roundUp(45, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length());
        assertEquals(5L * stride + 4 * 5, m.bytes(), "a byte per (padded) weight and a float scale per row");
    }

    /** The checkpoint the tensors come from: only an FP8 one's scales are ever looked up in it. */
    private static final Weights NO_CHECKPOINT = null;

    @Test
    void stackedPartsAreQuantizedEachWithItsOwnName() {
        Random rnd = new Random(13);
        Tensor q = SyntheticModel.tensor(rnd, DType.BF16, "q_proj.weight", 1.0, 0, 3, 40);
        Tensor k = SyntheticModel.tensor(rnd, DType.BF16, "k_proj.weight", 100.0, 0, 5, 40);
        WeightMatrix m = TensorReader.matrix(NO_CHECKPOINT, List.of(q, k), new int[]{3, 5}, 40, Quantization.FP8);
        assertInstanceOf(Fp8Matrix.class, m);
        assertEquals(8, m.rows());
        double[] kv = SyntheticModel.values(k);
        float[] row = new float[40];
        m.row(4, row, 0);
        for (int c = 0; c < 40; c++) assertEquals(kv[40 + c], row[c], Math.abs(kv[40 + c]) / 16 + 1e-3);
        assertInstanceOf(Bf16Matrix.class, TensorReader.matrix(NO_CHECKPOINT, List.of(q, k), new int[]{3, 5}, 40, Quantization.NONE));

        Tensor nan = SyntheticModel.tensor(rnd, DType.F32, "v_proj.weight", Double.NaN, 0, 2, 40);
        var e = assertThrows(IllegalArgumentException.class,
                () -> TensorReader.matrix(NO_CHECKPOINT, List.of(q, nan), new int[]{3, 2}, 40, Quantization.FP8));
        assertTrue(e.getMessage().startsWith("cannot quantize v_proj.weight to fp8: row 0 column 0"), e.getMessage());
    }

    /** Rows whose magnitudes span 2^-20..1 relative to their largest, so subnormal codes occur. */
    private static Fp8Weight wideRangeWeight(Random rnd, int rows, int cols) {
        return Fp8Weight.quantize("w", rows, cols, (r, dst) -> {
            for (int c = 0; c < cols; c++) dst[c] = (float) (rnd.nextGaussian() * Math.scalb(1.0, -rnd.nextInt(21)));
        });
    }

    private static double[] dequantized(Fp8Weight w) {
        double[] d = new double[w.rows() * w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            for (int c = 0; c < w.cols(); c++) {
                d[r * w.cols() + c] = (double) E4m3.decode(w.codes()[r * w.cols() + c]) * w.scales()[r];
            }
        }
        return d;
    }
}
