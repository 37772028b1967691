package ai.arbor.actors.router.kv;

/**
 * In-flight routing decisions shared between router replicas (one per frontend), so that several frontends do not
 * all pile onto the worker that looks idle to each of them alone. Only load is shared, never the prefix index: each
 * replica reads the KV events itself.
 */
public interface LoadSharing extends AutoCloseable {
    /** This replica sent a request with {@code promptTokens} tokens to {@code workerId}. */
    void routed(String requestId, long workerId, int promptTokens);

    /** That request finished or was cancelled. */
    void released(String requestId);

    /** Prompt tokens other replicas have in flight on the worker. */
    long remoteTokens(long workerId);

    /** Requests other replicas have in flight on the worker. */
    int remoteRequests(long workerId);

    @Override
    void close();

    /** A single router: nothing to share. */
    static LoadSharing none() {
        return new LoadSharing() {
            @Override public void routed(String requestId, long workerId, int promptTokens) {}
            @Override public void released(String requestId) {}
            @Override public long remoteTokens(long workerId) { return 0; }
            @Override public int remoteRequests(long workerId) { return 0; }
            @Override public void close() {}
        };
    }
}
