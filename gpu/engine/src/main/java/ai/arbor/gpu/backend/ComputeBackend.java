package ai.arbor.gpu.backend;

/**
 * Runs the model's forward pass on some device. The backend owns the weights' device copy and the paged KV cache
 * storage; which block holds what is decided outside it (the KV cache manager), so every backend shares one scheduler.
 * Not thread-safe: the engine's step loop is its only caller.
 */
public interface ComputeBackend extends AutoCloseable {

    /** Short name for logs and metrics, e.g. "cpu" or "cuda:0". */
    String name();

    /** Bytes one KV block takes for every layer, K and V together. */
    long kvBlockBytes(int blockSize);

    /** How many KV blocks fit in the memory this backend may use for the cache. */
    int availableKvBlocks(int blockSize);

    /** Allocates (or re-allocates) the paged cache: {@code numBlocks} blocks of {@code blockSize} token slots. */
    void allocateKvCache(int numBlocks, int blockSize);

    /**
     * One forward pass over every chunk of the batch, writing their K/V into the cache.
     *
     * @return one row of vocabulary logits (fp32) per chunk whose {@code wantLogits} is set, in batch order
     */
    float[][] forward(ForwardBatch batch);

    /**
     * Like {@link #forward}, but returns every token's final hidden state (after the final norm) instead of logits:
     * per chunk, its tokens x hidden size, row-major. What embeddings pool.
     *
     * @throws UnsupportedOperationException if this backend cannot (the caller answers "not supported")
     */
    default float[][] hiddenStates(ForwardBatch batch) {
        throw new UnsupportedOperationException("the " + name() + " backend does not compute embeddings");
    }

    /**
     * Block copies out of and into the paged cache, for the host KV tier and transfers between workers; empty where
     * the backend cannot copy blocks (then neither is offered). Valid once the cache is allocated.
     */
    default java.util.Optional<KvBlockCopier> kvBlockCopier() { return java.util.Optional.empty(); }

    @Override
    void close();
}
