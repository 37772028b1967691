package ai.arbor.actors.synthetic;

/**
 * The synthetic engine's own clock ({@link System#nanoTime()}), reported as things happen: when a request reached the
 * engine and when each of its tokens left it. A benchmark subtracts these from what its clients observe, which leaves
 * exactly the time the serving path added. Called on the thread that adds the request and on the engine thread:
 * implementations must be thread-safe and must not block.
 */
public interface EngineTimestamps {
    /** {@code addRequest} was called for {@code requestId}. */
    void arrived(String requestId, long nanos);

    /** The engine handed the {@code index}-th output token (1-based) of {@code requestId} to its sink. */
    void emitted(String requestId, int index, long nanos);

    EngineTimestamps NONE = new EngineTimestamps() {
        @Override
        public void arrived(String requestId, long nanos) {}

        @Override
        public void emitted(String requestId, int index, long nanos) {}
    };
}
