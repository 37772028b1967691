package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A hidden-states batch cut into passes no longer than the activations allow (runs without a GPU): the cut is checked
 * on its own, and on the CPU backend, where the passes' rows must be the whole batch's rows.
 */
class HiddenStatePassesTest {
    private static final Path MODEL = Path.of("..", "..", "models", "tiny-qwen2");

    @Test
    void chunksAreCutWherePassesFillAndContinueAtTheNextPosition() {
        int[] a = {1, 2, 3, 4, 5, 6, 7};
        int[] tableA = {4, 9};
        int[] tableB = {3};
        ForwardBatch batch = new ForwardBatch(List.of(
                new SequenceChunk(a, 2, tableA, true),
                new SequenceChunk(new int[]{8, 9}, 0, tableB, true)));
        List<ForwardBatch> passes = HiddenStatePasses.of(batch, 3);
        assertEquals(3, passes.size());
        // {1,2,3} | {4,5,6} | {7} + {8,9}
        assertChunk(passes.get(0).chunks().get(0), new int[]{1, 2, 3}, 2, tableA);
        assertChunk(passes.get(1).chunks().get(0), new int[]{4, 5, 6}, 5, tableA);
        assertChunk(passes.get(2).chunks().get(0), new int[]{7}, 8, tableA);
        assertChunk(passes.get(2).chunks().get(1), new int[]{8, 9}, 0, tableB);
        for (ForwardBatch p : passes) assertTrue(p.numTokens() <= 3);
    }

    @Test
    void aBatchWithinTheLimitIsOnePassOfTheSameChunksWithoutLogits() {
        int[] tableA = {0};
        int[] tableB = {1};
        ForwardBatch batch = new ForwardBatch(List.of(
                new SequenceChunk(new int[]{1, 2}, 0, tableA, true),
                new SequenceChunk(new int[]{3}, 4, tableB, false)));
        List<ForwardBatch> passes = HiddenStatePasses.of(batch, 3);
        assertEquals(1, passes.size());
        assertChunk(passes.get(0).chunks().get(0), new int[]{1, 2}, 0, tableA);
        assertChunk(passes.get(0).chunks().get(1), new int[]{3}, 4, tableB);
    }

    @Test
    void anEmptyChunkIsPassedOnForTheBackendToRejectAndTheLimitMustBePositive() {
        ForwardBatch batch = new ForwardBatch(List.of(new SequenceChunk(new int[0], 0, new int[]{0}, false)));
        assertEquals(0, HiddenStatePasses.of(batch, 4).get(0).chunks().get(0).tokens().length);
        assertThrows(IllegalArgumentException.class, () -> HiddenStatePasses.of(batch, 0));
    }

    @Test
    void onTheCpuBackendThePassesRowsAreTheWholeBatchsRows() {
        try (HfModel hf = HfModel.load(MODEL); CpuBackend cpu = new CpuBackend(hf.config(), hf.weights(), 2)) {
            cpu.allocateKvCache(16, 4);
            ForwardBatch batch = new ForwardBatch(List.of(
                    new SequenceChunk(hf.tokenizer().encode("A journey of a thousand miles begins with one step"), 0,
                            new int[]{7, 2, 9, 4, 11}, false),
                    new SequenceChunk(hf.tokenizer().encode("Hello there"), 0, new int[]{0, 5}, false)));
            int hidden = hf.config().hiddenSize();
            float[][] whole = cpu.hiddenStates(batch);
            List<float[]> rows = new ArrayList<>();
            for (ForwardBatch p : HiddenStatePasses.of(batch, 3)) {
                for (float[] chunk : cpu.hiddenStates(p)) rows.add(chunk);
            }
            float[] flat = new float[batch.numTokens() * hidden];
            int at = 0;
            for (float[] r : rows) {
                System.arraycopy(r, 0, flat, at, r.length);
                at += r.length;
            }
            assertEquals(flat.length, at);
            float[][] passed = batch.perChunk(flat, hidden);
            for (int c = 0; c < whole.length; c++) assertArrayEquals(whole[c], passed[c], 1e-4f, "chunk " + c);
        }
    }

    private static void assertChunk(SequenceChunk c, int[] tokens, int start, int[] table) {
        assertArrayEquals(tokens, c.tokens());
        assertEquals(start, c.startPosition());
        assertSame(table, c.blockTable());
        assertFalse(c.wantLogits());
    }
}
