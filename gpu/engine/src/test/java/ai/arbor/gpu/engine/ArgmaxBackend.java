package ai.arbor.gpu.engine;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.GreedyForward;

/**
 * The real CPU backend offering {@link GreedyForward} the way a GPU backend does (argmax next to the logits, ties to
 * the lowest id), counting which path each step took.
 */
final class ArgmaxBackend implements ComputeBackend, GreedyForward {
    private final ComputeBackend real;
    int forwardCalls;
    int greedyCalls;

    ArgmaxBackend(ComputeBackend real) { this.real = real; }

    @Override public String name() { return "argmax(" + real.name() + ")"; }

    @Override public long kvBlockBytes(int blockSize) { return real.kvBlockBytes(blockSize); }

    @Override public int availableKvBlocks(int blockSize) { return real.availableKvBlocks(blockSize); }

    @Override public void allocateKvCache(int numBlocks, int blockSize) { real.allocateKvCache(numBlocks, blockSize); }

    @Override
    public float[][] forward(ForwardBatch batch) {
        forwardCalls++;
        return real.forward(batch);
    }

    @Override
    public int[] forwardGreedy(ForwardBatch batch) {
        greedyCalls++;
        float[][] rows = real.forward(batch);
        int[] out = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            float[] row = rows[r];
            int best = 0;
            for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
            out[r] = best;
        }
        return out;
    }

    @Override public void close() { real.close(); }
}
