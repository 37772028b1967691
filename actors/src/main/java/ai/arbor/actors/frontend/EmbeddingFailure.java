package ai.arbor.actors.frontend;

import ai.arbor.actors.worker.WorkerActor;

/**
 * An accepted embedding request that got no vectors: no worker took it ({@code why} null), or the worker's engine
 * refused or failed it ({@code why} says which).
 */
public final class EmbeddingFailure extends RuntimeException {
    private final WorkerActor.EmbedFailed.Why why;

    EmbeddingFailure(WorkerActor.EmbedFailed.Why why, String message) {
        super(message, null, false, false);
        this.why = why;
    }

    /** Null when no worker computed it. */
    public WorkerActor.EmbedFailed.Why why() { return why; }
}
