package ai.arbor.gpu.engine;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * A backend with no model: every logits row peaks at {@link #TOKEN}, and each step's chunks are kept, so that tests
 * can see what the scheduler put into every step. Prompts made of tokens from {@link #FIRST_PROMPT_TOKEN} on tell a
 * prompt chunk ({@code tokens[0] >= FIRST_PROMPT_TOKEN}) from a decode row (its one token is {@link #TOKEN}).
 */
final class StepRecordingBackend implements ComputeBackend {
    static final int VOCAB = 4096;
    static final int TOKEN = 5;
    static final int FIRST_PROMPT_TOKEN = 100;
    static final ModelConfig MODEL = new ModelConfig(Architecture.QWEN2, VOCAB, 8, 16, 1, 1, 1, 8, 1 << 16, 1e-6, 1e4,
            null, true, false, false, DType.BF16);

    final List<List<SequenceChunk>> steps = new ArrayList<>();

    @Override public String name() { return "recording"; }

    @Override public long kvBlockBytes(int blockSize) { return blockSize; }

    @Override public int availableKvBlocks(int blockSize) { return 1 << 16; }

    @Override public void allocateKvCache(int numBlocks, int blockSize) {}

    @Override
    public float[][] forward(ForwardBatch batch) {
        steps.add(List.copyOf(batch.chunks()));
        List<float[]> rows = new ArrayList<>();
        for (SequenceChunk c : batch.chunks()) {
            if (!c.wantLogits()) continue;
            float[] row = new float[VOCAB];
            row[TOKEN] = 10;
            rows.add(row);
        }
        return rows.toArray(new float[0][]);
    }

    /** The last step's chunks. */
    List<SequenceChunk> lastStep() { return steps.get(steps.size() - 1); }

    static boolean isDecode(SequenceChunk c) { return c.tokens().length == 1 && c.tokens()[0] == TOKEN; }

    @Override public void close() {}
}
