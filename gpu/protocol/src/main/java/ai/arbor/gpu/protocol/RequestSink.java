package ai.arbor.gpu.protocol;

/** Where an engine delivers a request's outputs; called on the engine thread, so implementations must not block. */
@FunctionalInterface
public interface RequestSink {
    void onOutput(RequestOutput output);

    /**
     * The engine failed while running this request (a forward pass threw); no more outputs follow. By default it is
     * reported as a final ABORT output, so a sink that ignores errors still sees its request end.
     */
    default void onError(String requestId, Throwable cause) {
        onOutput(new RequestOutput(requestId, new int[0], java.util.List.of(), true, FinishReason.ABORT, 0, 0, 0));
    }
}
