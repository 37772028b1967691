package ai.arbor.actors.kvevents;

/** Receives batches from the bus, in order per worker, on one bus thread. */
@FunctionalInterface
public interface KvEventSink {
    /**
     * @param sequence the bus's position of this batch (JetStream stream sequence; a counter in-process): a consumer
     *                 that stores it with a snapshot can resume right after it
     */
    void accept(long sequence, KvEventBatch batch);
}
