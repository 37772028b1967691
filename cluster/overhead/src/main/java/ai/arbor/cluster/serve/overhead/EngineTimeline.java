package ai.arbor.cluster.serve.overhead;

import ai.arbor.actors.synthetic.EngineTimestamps;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What the synthetic engine itself took per request: when the request reached it and when each token left it. */
final class EngineTimeline implements EngineTimestamps {

    /** @param emitted nanoTime of token k at index k - 1; 0 where none came */
    record Times(long arrived, long[] emitted) {
        long first() { return emitted[0]; }

        long last() {
            for (int i = emitted.length - 1; i >= 0; i--) if (emitted[i] != 0) return emitted[i];
            return 0;
        }
    }

    private final int maxTokens;
    private final Map<String, Times> byRequest = new ConcurrentHashMap<>();

    EngineTimeline(int maxTokens) { this.maxTokens = maxTokens; }

    @Override
    public void arrived(String requestId, long nanos) {
        byRequest.put(requestId, new Times(nanos, new long[maxTokens]));
    }

    @Override
    public void emitted(String requestId, int index, long nanos) {
        Times t = byRequest.get(requestId);
        // written by the engine thread before it hands the token on; read only after the client received it
        if (t != null && index <= maxTokens) t.emitted()[index - 1] = nanos;
    }

    Times get(String requestId) { return byRequest.get(requestId); }

    void clear() { byRequest.clear(); }
}
