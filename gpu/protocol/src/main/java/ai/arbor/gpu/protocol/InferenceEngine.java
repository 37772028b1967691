package ai.arbor.gpu.protocol;


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

    EngineStats stats();

    void addKvEventListener(KvEventListener listener);

    int blockSize();

    /** Longest prompt plus output a request may have. */
    int maxModelLen();

    @Override
    void close();
}
