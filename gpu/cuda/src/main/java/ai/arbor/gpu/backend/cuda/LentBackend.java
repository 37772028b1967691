package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.GreedyForward;

/** Lends a CUDA backend to an engine (which closes what it owns) without letting the engine close it. */
record LentBackend(CudaBackend b) implements ComputeBackend, GreedyForward {
    @Override public String name() { return b.name(); }
    @Override public long kvBlockBytes(int blockSize) { return b.kvBlockBytes(blockSize); }
    @Override public int availableKvBlocks(int blockSize) { return b.availableKvBlocks(blockSize); }
    @Override public void allocateKvCache(int numBlocks, int blockSize) { b.allocateKvCache(numBlocks, blockSize); }
    @Override public float[][] forward(ForwardBatch batch) { return b.forward(batch); }
    @Override public int[] forwardGreedy(ForwardBatch batch) { return b.forwardGreedy(batch); }
    @Override public void close() { }
}
