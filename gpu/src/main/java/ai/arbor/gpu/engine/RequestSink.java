package ai.arbor.gpu.engine;

/** Where an engine delivers a request's outputs; called on the engine thread, so implementations must not block. */
@FunctionalInterface
public interface RequestSink {
    void onOutput(RequestOutput output);
}
