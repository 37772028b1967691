package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.DeviceSampling;
import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.GreedyForward;
import ai.arbor.gpu.backend.KvBlockCopier;
import ai.arbor.gpu.sample.SamplingRow;
import java.util.List;
import java.util.Optional;

/** Lends a CUDA backend to an engine (which closes what it owns) without letting the engine close it. */
record LentBackend(CudaBackend b) implements ComputeBackend, GreedyForward, DeviceSampling {
    @Override public String name() { return b.name(); }
    @Override public long kvBlockBytes(int blockSize) { return b.kvBlockBytes(blockSize); }
    @Override public int availableKvBlocks(int blockSize) { return b.availableKvBlocks(blockSize); }
    @Override public void allocateKvCache(int numBlocks, int blockSize) { b.allocateKvCache(numBlocks, blockSize); }
    @Override public float[][] forward(ForwardBatch batch) { return b.forward(batch); }
    @Override public float[][] hiddenStates(ForwardBatch batch) { return b.hiddenStates(batch); }
    @Override public int[] forwardGreedy(ForwardBatch batch) { return b.forwardGreedy(batch); }
    @Override public StepTokens forwardSampled(ForwardBatch batch, List<SamplingRow> rows) { return b.forwardSampled(batch, rows); }
    @Override public boolean canSample(List<SamplingRow> rows) { return b.canSample(rows); }
    @Override public void release(String sequenceId) { b.release(sequenceId); }
    @Override public Optional<KvBlockCopier> kvBlockCopier() { return b.kvBlockCopier(); }
    @Override public void close() { }
}
