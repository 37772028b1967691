package ai.arbor.gpu.engine;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;

/**
 * A deterministic stand-in for a model, used only where the engine's control flow is under test (a failing forward
 * pass): it writes token ids into a paged cache through the block table and derives each next token from the whole
 * sequence read back through that table, so a wrong block table or a stale prefix-cache block changes its output.
 */
final class PagedTokenBackend implements ComputeBackend {
    private final int vocab;
    private int blockSize;
    private int[] slots = new int[0];
    volatile RuntimeException failNext;
    int forwardCalls;

    PagedTokenBackend(int vocab) { this.vocab = vocab; }

    @Override public String name() { return "paged-token-test"; }

    @Override public long kvBlockBytes(int blockSize) { return 4L * blockSize; }

    @Override public int availableKvBlocks(int blockSize) { return 256; }

    @Override
    public void allocateKvCache(int numBlocks, int blockSize) {
        this.blockSize = blockSize;
        this.slots = new int[numBlocks * blockSize];
        java.util.Arrays.fill(slots, -1);
    }

    @Override
    public float[][] forward(ForwardBatch batch) {
        forwardCalls++;
        RuntimeException f = failNext;
        if (f != null) {
            failNext = null;
            throw f;
        }
        int rows = 0;
        for (SequenceChunk c : batch.chunks()) if (c.wantLogits()) rows++;
        float[][] out = new float[rows][];
        int row = 0;
        for (SequenceChunk c : batch.chunks()) {
            for (int i = 0; i < c.tokens().length; i++) slots[slot(c, c.startPosition() + i)] = c.tokens()[i];
            if (!c.wantLogits()) continue;
            long h = 17;
            for (int p = 0; p < c.endPosition(); p++) {
                int t = slots[slot(c, p)];
                if (t < 0) throw new IllegalStateException("position " + p + " was never written");
                h = h * 31 + t;
            }
            float[] logits = new float[vocab];
            logits[(int) Math.floorMod(h, (long) vocab)] = 5f;
            logits[(int) Math.floorMod(h * 7 + 3, (long) vocab)] += 4f;
            out[row++] = logits;
        }
        return out;
    }

    private int slot(SequenceChunk c, int pos) {
        return c.blockTable()[pos / blockSize] * blockSize + pos % blockSize;
    }

    @Override public void close() {}
}
