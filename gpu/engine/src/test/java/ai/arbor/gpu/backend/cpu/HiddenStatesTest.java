package ai.arbor.gpu.backend.cpu;

import ai.arbor.gpu.model.quant.Quantization;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.Pooling;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hidden states embeddings pool are the ones the language-model head reads: on tiny-qwen2 (tied embeddings) the
 * last token's hidden state dotted with each vocabulary row gives the logits {@code forward} returns. Pooling: last,
 * first and mean rows, each of unit length.
 */
class HiddenStatesTest {
    static final Path MODEL = Path.of("..", "..", "models", "tiny-qwen2");

    @Test
    void lastHiddenStateTimesTheEmbeddingIsTheLogits() {
        try (HfModel hf = HfModel.load(MODEL); CpuBackend backend = new CpuBackend(hf.config(), hf.weights(), 2)) {
            assertTrue(hf.config().tieWordEmbeddings());
            backend.allocateKvCache(8, 16);
            int[] prompt = hf.tokenizer().encode("A journey of a thousand miles begins");
            int[] table = {5, 2, 7};
            float[] logits = backend.forward(new ForwardBatch(List.of(new SequenceChunk(prompt, 0, table, true))))[0];
            float[] hidden = backend.hiddenStates(new ForwardBatch(List.of(new SequenceChunk(prompt, 0, table, false))))[0];
            int dim = hf.config().hiddenSize();
            assertEquals(prompt.length * dim, hidden.length);
            CpuModelWeights w = CpuModelWeights.load(hf.config(), hf.weights(), Quantization.NONE);
            float[] row = new float[dim];
            for (int id = 0; id < logits.length; id += 7) {
                w.embedTokens().row(id, row, 0);
                double dot = 0;
                for (int i = 0; i < dim; i++) dot += (double) hidden[(prompt.length - 1) * dim + i] * row[i];
                assertEquals(logits[id], dot, 1e-3, "token " + id);
            }
        }
    }

    @Test
    void poolingPicksRowsAndNormalises() {
        float[] h = {3, 4, 0, 0, 0, 5, 1, 1, 1};
        assertArrayEquals(new float[] {0.6f, 0.8f, 0}, Pooling.CLS.pool(h, 3, 3), 1e-6f);
        float s = (float) (1 / Math.sqrt(3));
        assertArrayEquals(new float[] {s, s, s}, Pooling.LAST.pool(h, 3, 3), 1e-6f);
        // mean (4/3, 5/3, 2) has length sqrt(16 + 25 + 36) / 3
        float n = (float) Math.sqrt(77);
        assertArrayEquals(new float[] {4 / n, 5 / n, 6 / n}, Pooling.MEAN.pool(h, 3, 3), 1e-6f);
    }
}
