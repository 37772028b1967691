package ai.arbor.gpu.bench;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.RopeScaling;
import ai.arbor.gpu.model.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's generated checkpoint is a model directory the real loader accepts and the backend runs. */
class RandomCheckpointTest {

    @Test
    void generatedCheckpointLoadsAndRuns(@TempDir Path tmp) throws Exception {
        ModelConfig shape = new ModelConfig(Architecture.QWEN2, 2048, 128, 320, 2, 4, 2, 32, 1024, 1e-6, 1_000_000.0,
                RopeScaling.DEFAULT, true, true, false, DType.BF16);
        Path dir = tmp.resolve("random-qwen2");
        RandomCheckpoint.write(dir, shape, tinyQwen2(), 1);
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
        try (HfModel model = HfModel.load(dir)) {
            ModelConfig c = model.config();
            assertEquals(shape.hiddenSize(), c.hiddenSize());
            assertEquals(shape.numLayers(), c.numLayers());
            assertEquals(shape.numKvHeads(), c.numKvHeads());
            assertEquals(shape.headDim(), c.headDim());
            assertEquals(shape.attentionBias(), c.attentionBias());
            assertEquals(shape.tieWordEmbeddings(), c.tieWordEmbeddings());
            Map<String, long[]> shapes = RandomCheckpoint.shapes(shape);
            assertEquals(shapes.keySet(), model.weights().names());
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                Tensor t = model.weights().tensor(e.getKey());
                assertArrayEquals(e.getValue(), t.shape(), e.getKey());
                assertEquals(DType.BF16, t.dtype());
            }
            try (CpuBackend backend = new CpuBackend(c, model.weights(), 2)) {
                backend.allocateKvCache(4, 16);
                float[] logits = backend.forward(new ForwardBatch(List.of(
                        new SequenceChunk(new int[]{1, 2, 3}, 0, new int[]{0}, true))))[0];
                assertEquals(shape.vocabSize(), logits.length);
                for (float l : logits) assertTrue(Float.isFinite(l));
            }
        }
    }

    private static Path tinyQwen2() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("models/tiny-qwen2");
            if (Files.isDirectory(candidate)) return candidate;
        }
        throw new IllegalStateException("models/tiny-qwen2 not found");
    }
}
