package ai.arbor.gpu.engine;

import ai.arbor.gpu.backend.ComputeBackend;
import ai.arbor.gpu.backend.ForwardBatch;

/**
 * A real backend whose next forward pass can be made to fail, standing in for a device error; its next embedding pass
 * too, with any {@link Error} (running out of memory). Counts the embedding passes it was asked for.
 */
final class FailingOnceBackend implements ComputeBackend {
    private final ComputeBackend real;
    volatile RuntimeException failNext;
    volatile Error failNextEmbedding;
    final java.util.concurrent.atomic.AtomicInteger embeddingPasses = new java.util.concurrent.atomic.AtomicInteger();

    FailingOnceBackend(ComputeBackend real) { this.real = real; }

    @Override public String name() { return real.name(); }

    @Override public long kvBlockBytes(int blockSize) { return real.kvBlockBytes(blockSize); }

    @Override public int availableKvBlocks(int blockSize) { return real.availableKvBlocks(blockSize); }

    @Override public void allocateKvCache(int numBlocks, int blockSize) { real.allocateKvCache(numBlocks, blockSize); }

    @Override
    public float[][] forward(ForwardBatch batch) {
        RuntimeException f = failNext;
        if (f != null) {
            failNext = null;
            throw f;
        }
        return real.forward(batch);
    }

    @Override
    public float[][] hiddenStates(ForwardBatch batch) {
        embeddingPasses.incrementAndGet();
        Error f = failNextEmbedding;
        if (f != null) {
            failNextEmbedding = null;
            throw f;
        }
        return real.hiddenStates(batch);
    }

    @Override public void close() { real.close(); }
}
