package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The self-check's embeddings comparison, run without a GPU by putting the CPU backend under test: it passes against
 * itself, and fails for a backend that hands back each prompt's rows in the wrong order.
 */
class EmbeddingCheckTest {
    private static final Path MODEL = Path.of("..", "..", "models", "tiny-qwen2");

    @Test
    void theCpuBackendAgreesWithItself() {
        EmbeddingCheck.Result r = check(false);
        assertTrue(r.passed(), r.toString());
        assertTrue(r.toString().startsWith("embeddings: PASS tiny-qwen2 (bf16 KV cache"), r.toString());
    }

    @Test
    void rowsInTheWrongOrderFail() {
        EmbeddingCheck.Result r = check(true);
        assertFalse(r.passed(), r.toString());
        assertTrue(r.toString().startsWith("embeddings: FAIL"), r.toString());
    }

    private static EmbeddingCheck.Result check(boolean reversed) {
        try (HfModel hf = HfModel.load(MODEL);
             CpuBackend subject = new CpuBackend(hf.config(), hf.weights(), 2);
             CpuBackend reference = new CpuBackend(hf.config(), hf.weights(), 2)) {
            List<int[]> prompts = List.of(hf.tokenizer().encode("Hi"),
                    hf.tokenizer().encode("A journey of a thousand miles begins with a single step."),
                    hf.tokenizer().encode("The quick brown fox jumps over the lazy dog. ".repeat(6)));
            Unclosed b = new Unclosed(subject, reversed, hf.config().hiddenSize());
            EmbeddingCheck.Subject s = new EmbeddingCheck.Subject(b, (batch, max) -> b.hiddenStates(batch), b);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            return EmbeddingCheck.run("tiny-qwen2", hf.config(), s, reference, prompts, false, new PrintStream(log, true));
        }
    }

    /** A backend an engine may close and go on using; with {@code reversed}, each chunk's rows come back last first. */
    private record Unclosed(CpuBackend b, boolean reversed, int dim) implements ComputeBackend {
        @Override public String name() { return b.name(); }
        @Override public long kvBlockBytes(int blockSize) { return b.kvBlockBytes(blockSize); }
        @Override public int availableKvBlocks(int blockSize) { return b.availableKvBlocks(blockSize); }
        @Override public void allocateKvCache(int numBlocks, int blockSize) { b.allocateKvCache(numBlocks, blockSize); }
        @Override public float[][] forward(ForwardBatch batch) { return b.forward(batch); }
        @Override public void close() { }

        @Override
        public float[][] hiddenStates(ForwardBatch batch) {
            float[][] out = b.hiddenStates(batch);
            if (!reversed) return out;
            for (float[] rows : out) {
                float[] copy = rows.clone();
                int n = rows.length / dim;
                for (int t = 0; t < n; t++) System.arraycopy(copy, (n - 1 - t) * dim, rows, t * dim, dim);
            }
            return out;
        }
    }
}
