package ai.arbor.actors.kvevents;

/**
 * Carries workers' KV events to every router replica. {@link InProcessKvEventBus} is the embedded default (one JVM);
 * {@link JetStreamKvEventBus} keeps them in a NATS JetStream stream so that routers in other processes, and routers
 * that restart, can read them.
 */
public interface KvEventBus extends AutoCloseable {
    /** A publisher for one worker of {@code model}: give it to the engine as its KV event listener. */
    KvEventPublisher publisher(String model, long workerId);

    /**
     * Delivers the model's events, starting after bus position {@code afterSequence} (0 = everything the bus still
     * holds), until the subscription is closed.
     */
    AutoCloseable subscribe(String model, long afterSequence, KvEventSink sink);

    /** False while the bus cannot deliver (NATS unreachable): routers should then route by load alone. */
    boolean healthy();

    /** Asks a worker to re-send its whole cache (after a router saw a gap it cannot repair otherwise). */
    void requestResync(String model, long workerId);

    /** Forgets the model's stored events ({@code --router-reset-states}). */
    void purge(String model);

    @Override
    void close();
}
