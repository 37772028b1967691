package ai.arbor.gpu.protocol;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a worker drives: requests go in from any thread, one dedicated thread calls {@link #step()} while
 * {@link #hasWork()}, outputs leave through each request's sink. {@code LLMEngine} is the real one; a synthetic engine
 * that answers instantly measures the serving path's own overhead.
 */
public interface InferenceEngine extends AutoCloseable {

    /** Queues a request; it joins the running batch at the next step. Thread-safe. */
    void addRequest(EngineRequest request, RequestSink sink);

    /** Cancels a request; its blocks are freed at the next step and its sink gets a final ABORT output. Thread-safe. */
    void abort(String requestId);

    /** True while any request is waiting or running. Thread-safe. */
    boolean hasWork();

    /** Runs one scheduling step and forward pass. Engine thread only. */
    void step();

    /**
     * Called by the loop after {@link #step()} threw: ends every request in flight with an error (their sinks'
     * {@code onError}) and frees what they held, so the engine can go on serving new requests. Engine thread only.
     */
    default void failInFlight(Throwable cause) {}

    /**
     * Embeddings: each prompt's final hidden states pooled as the engine's model declares and L2-normalised, computed
     * on the engine thread between steps, each prompt in a forward pass of its own (so a prompt's vector does not
     * depend on what it was sent with). Fails with {@link UnsupportedOperationException} where the engine or its
     * backend cannot, with {@link IllegalArgumentException} for a prompt it cannot take (empty, too long, a token
     * outside the vocabulary). Thread-safe; whoever steps the engine must be woken to run it. Cancelling the future
     * drops the job: one not yet run computes nothing (engines that run it in one step need no more than that).
     */
    default CompletableFuture<float[][]> embed(List<int[]> prompts) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("this engine does not compute embeddings"));
    }

    EngineStats stats();

    void addKvEventListener(KvEventListener listener);

    /**
     * Receives the events of the blocks held in any KV tier (primary or host), a stream of its own with its own ids;
     * engines without a host tier never call it.
     */
    default void addReachableKvEventListener(KvEventListener listener) {}

    /** Whether evicted blocks go to a host tier (and so {@link #addReachableKvEventListener} has events). */
    default boolean hasHostKvTier() { return false; }

    int blockSize();

    /** Longest prompt plus output a request may have. */
    int maxModelLen();

    @Override
    void close();
}
