package ai.arbor.actors.frontend;

import ai.arbor.actors.worker.WorkerActor;

/**
 * An accepted embedding request that got no vectors: no worker took it ({@code why} null), the worker's engine
 * refused or failed it ({@code why} says which), or no answer came in time ({@link #timedOut()}).
 */
public final class EmbeddingFailure extends RuntimeException {
    private final WorkerActor.EmbedFailed.Why why;
    private final boolean timedOut;

    EmbeddingFailure(WorkerActor.EmbedFailed.Why why, String message) { this(why, message, false); }

    private EmbeddingFailure(WorkerActor.EmbedFailed.Why why, String message, boolean timedOut) {
        super(message, null, false, false);
        this.why = why;
        this.timedOut = timedOut;
    }

    static EmbeddingFailure timedOut(String message) { return new EmbeddingFailure(null, message, true); }

    /** Null when no worker computed it. */
    public WorkerActor.EmbedFailed.Why why() { return why; }

    /** The request's deadline passed before any worker answered. */
    public boolean timedOut() { return timedOut; }
}
