package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.RopeScaling;
import ai.arbor.gpu.model.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The paged, batched forward pass against a dense reference, and against itself under every way of batching. */
class CpuBackendTest {
    private static final int BLOCK = 4;
    private static final int NUM_BLOCKS = 64;
    private static final RopeScaling LLAMA3 = new RopeScaling("llama3", 8.0, 1.0, 4.0, 64);

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of(Architecture.QWEN2, true, RopeScaling.DEFAULT, DType.BF16),
                Arguments.of(Architecture.QWEN3, false, RopeScaling.DEFAULT, DType.BF16),
                Arguments.of(Architecture.LLAMA, false, LLAMA3, DType.BF16),
                Arguments.of(Architecture.LLAMA, true, RopeScaling.DEFAULT, DType.F32),
                Arguments.of(Architecture.QWEN2, true, RopeScaling.DEFAULT, DType.F16));
    }

    @ParameterizedTest
    @MethodSource("models")
    void teacherForcedLogitsMatchDenseReference(Architecture arch, boolean tied, RopeScaling scaling, DType dtype) {
        ModelConfig config = SyntheticModel.config(arch, tied, scaling);
        Map<String, Tensor> tensors = SyntheticModel.tensors(config, dtype, 11);
        int[] prompt = tokens(new Random(1), config, 21);
        double[][] expected = new ReferenceTransformer(config, tensors).logits(prompt);
        try (CpuBackend backend = backend(config, tensors)) {
            int[] table = shuffledBlocks(new Random(2), 6);
            // Prefill the first 9 tokens, then decode the rest one by one: every position's logits are checked.
            float[][] first = backend.forward(batch(new SequenceChunk(Arrays.copyOf(prompt, 9), 0, table, true)));
            assertClose(expected[8], first[0], 1e-4, "prefill");
            for (int p = 9; p < prompt.length; p++) {
                float[][] out = backend.forward(batch(new SequenceChunk(new int[]{prompt[p]}, p, table, true)));
                assertClose(expected[p], out[0], 1e-4, "position " + p);
            }
        }
    }

    @Test
    void mixedBatchEqualsEachChunkAlone() {
        ModelConfig config = SyntheticModel.config(Architecture.QWEN2, true, RopeScaling.DEFAULT);
        Map<String, Tensor> tensors = SyntheticModel.tensors(config, DType.BF16, 5);
        Random rnd = new Random(9);
        int[] a = tokens(rnd, config, 14);
        int[] b = tokens(rnd, config, 10);
        int[] c = tokens(rnd, config, 7);
        int[] d = tokens(rnd, config, 3);
        int[] tableA = {3, 9, 1, 20};
        int[] tableB = {4, 7, 30};
        int[] tableC = {12, 2};
        int[] tableD = {40};
        // Earlier steps prefilled a, b and d; c is new.
        List<SequenceChunk> setup = List.of(
                new SequenceChunk(Arrays.copyOf(a, 13), 0, tableA, false),
                new SequenceChunk(Arrays.copyOf(b, 6), 0, tableB, false),
                new SequenceChunk(Arrays.copyOf(d, 2), 0, tableD, false));
        List<SequenceChunk> step = List.of(
                new SequenceChunk(new int[]{a[13]}, 13, tableA, true),                 // decode row
                new SequenceChunk(Arrays.copyOfRange(b, 6, 10), 6, tableB, true),      // last prefill chunk
                new SequenceChunk(Arrays.copyOf(c, 5), 0, tableC, false),              // first prefill chunk
                new SequenceChunk(new int[]{d[2]}, 2, tableD, true));                  // decode row

        float[][] batched;
        try (CpuBackend backend = backend(config, tensors)) {
            backend.forward(new ForwardBatch(setup));
            batched = backend.forward(new ForwardBatch(step));
        }
        assertEquals(3, batched.length, "logits only for chunks that want them");
        List<float[]> alone = new ArrayList<>();
        try (CpuBackend backend = backend(config, tensors)) {
            for (SequenceChunk s : setup) backend.forward(batch(s));
            for (SequenceChunk s : step) {
                float[][] out = backend.forward(batch(s));
                if (s.wantLogits()) alone.add(out[0]);
                else assertEquals(0, out.length);
            }
        }
        assertClose(alone.get(0), batched[0], 1e-4, "decode row a");
        assertClose(alone.get(1), batched[1], 1e-4, "prefill chunk b");
        assertClose(alone.get(2), batched[2], 1e-4, "decode row d");
    }

    @Test
    void chunkedPrefillEqualsOneFullPrefill() {
        ModelConfig config = SyntheticModel.config(Architecture.QWEN3, false, RopeScaling.DEFAULT);
        Map<String, Tensor> tensors = SyntheticModel.tensors(config, DType.BF16, 6);
        int[] prompt = tokens(new Random(4), config, 19);
        int[] table = shuffledBlocks(new Random(8), 6);
        float[][] full;
        float[][] fullNext;
        try (CpuBackend backend = backend(config, tensors)) {
            full = backend.forward(batch(new SequenceChunk(prompt, 0, table, true)));
            fullNext = backend.forward(batch(new SequenceChunk(new int[]{5}, 19, table, true)));
        }
        try (CpuBackend backend = backend(config, tensors)) {
            assertEquals(0, backend.forward(batch(new SequenceChunk(Arrays.copyOfRange(prompt, 0, 3), 0, table, false))).length);
            backend.forward(batch(new SequenceChunk(Arrays.copyOfRange(prompt, 3, 11), 3, table, false)));
            float[][] last = backend.forward(batch(new SequenceChunk(Arrays.copyOfRange(prompt, 11, 19), 11, table, true)));
            assertClose(full[0], last[0], 1e-4, "last chunk");
            float[][] next = backend.forward(batch(new SequenceChunk(new int[]{5}, 19, table, true)));
            assertClose(fullNext[0], next[0], 1e-4, "decode after chunked prefill");
        }
    }

    @Test
    void prefixBlocksWrittenEarlierEqualAColdPass() {
        ModelConfig config = SyntheticModel.config(Architecture.LLAMA, false, LLAMA3);
        Map<String, Tensor> tensors = SyntheticModel.tensors(config, DType.BF16, 8);
        Random rnd = new Random(12);
        int[] first = tokens(rnd, config, 13);
        int[] second = first.clone();
        int[] tail = tokens(rnd, config, 5);
        second = Arrays.copyOf(second, 8 + tail.length);
        System.arraycopy(tail, 0, second, 8, tail.length); // shares its first two full blocks (8 tokens) with first
        float[][] cold;
        try (CpuBackend backend = backend(config, tensors)) {
            cold = backend.forward(batch(new SequenceChunk(second, 0, new int[]{0, 1, 2, 3}, true)));
        }
        try (CpuBackend backend = backend(config, tensors)) {
            backend.forward(batch(new SequenceChunk(first, 0, new int[]{10, 11, 12, 13}, true)));
            float[][] warm = backend.forward(batch(new SequenceChunk(Arrays.copyOfRange(second, 8, second.length), 8,
                    new int[]{10, 11, 20, 21}, true)));
            assertClose(cold[0], warm[0], 1e-4, "prefix-cached pass");
        }
    }

    @Test
    void badBatchesAreRejectedClearly() {
        ModelConfig config = SyntheticModel.config(Architecture.QWEN2, true, RopeScaling.DEFAULT);
        try (CpuBackend backend = new CpuBackend(config, SyntheticModel.weights(SyntheticModel.tensors(config, DType.BF16, 1)), 2)) {
            assertThrows(IllegalStateException.class, () -> backend.forward(batch(new SequenceChunk(new int[]{1}, 0, new int[]{0}, true))));
            backend.allocateKvCache(4, BLOCK);
            IllegalArgumentException vocab = assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(batch(new SequenceChunk(new int[]{97}, 0, new int[]{0}, true))));
            assertTrue(vocab.getMessage().contains("vocabulary"), vocab.getMessage());
            IllegalArgumentException table = assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(batch(new SequenceChunk(new int[]{1, 2, 3, 4, 5}, 0, new int[]{0}, true))));
            assertTrue(table.getMessage().contains("block table"), table.getMessage());
            IllegalArgumentException block = assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(batch(new SequenceChunk(new int[]{1}, 0, new int[]{4}, true))));
            assertTrue(block.getMessage().contains("block 4"), block.getMessage());
        }
    }

    @Test
    void kvCacheSizing() {
        ModelConfig config = SyntheticModel.config(Architecture.QWEN2, true, RopeScaling.DEFAULT);
        long budget = 1 << 20;
        try (CpuBackend backend = new CpuBackend(config, SyntheticModel.weights(SyntheticModel.tensors(config, DType.BF16, 1)), 1, budget)) {
            // 2 layers x (K + V) x 2 kv heads x 16 dims x 4 bytes per token.
            assertEquals(16L * 2 * 2 * 32 * 4, backend.kvBlockBytes(16));
            assertEquals(budget / backend.kvBlockBytes(16), backend.availableKvBlocks(16));
        }
    }

    private static CpuBackend backend(ModelConfig config, Map<String, Tensor> tensors) {
        CpuBackend backend = new CpuBackend(config, SyntheticModel.weights(tensors), 2);
        backend.allocateKvCache(NUM_BLOCKS, BLOCK);
        return backend;
    }

    private static ForwardBatch batch(SequenceChunk chunk) { return new ForwardBatch(List.of(chunk)); }

    private static int[] tokens(Random rnd, ModelConfig config, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rnd.nextInt(config.vocabSize());
        return t;
    }

    private static int[] shuffledBlocks(Random rnd, int n) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < NUM_BLOCKS; i++) ids.add(i);
        java.util.Collections.shuffle(ids, rnd);
        return ids.subList(0, n).stream().mapToInt(Integer::intValue).toArray();
    }

    /** Max absolute difference relative to the largest logit magnitude. */
    private static void assertClose(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(maxDiff <= tol * scale, what + ": max diff " + maxDiff + " vs scale " + scale);
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        double[] e = new double[expected.length];
        for (int i = 0; i < e.length; i++) e[i] = expected[i];
        assertClose(e, actual, tol, what);
    }
}
