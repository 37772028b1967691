package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.InferenceEngine;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's own thread: steps an {@link InferenceEngine} back to back while it has work and parks when it has none.
 * Forward passes block for milliseconds to seconds, so they must never run on an actor dispatcher. Producers call
 * {@link #wakeup()} after {@code addRequest}/{@code abort}; a step that throws fails the requests in flight (through
 * {@link InferenceEngine#failInFlight}) and the loop goes on.
 */
public final class EngineLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EngineLoop.class);
    /** Parks are timed, so even a lost wakeup delays work by at most this much. */
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final InferenceEngine engine;
    private final Thread thread;
    private volatile boolean closed;

    public EngineLoop(InferenceEngine engine, String threadName) {
        this.engine = engine;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    public EngineLoop(InferenceEngine engine) { this(engine, "arbor-engine"); }

    public void start() { thread.start(); }

    /** Tells the loop there may be new work. Cheap; call it after every addRequest or abort. */
    public void wakeup() { LockSupport.unpark(thread); }

    public boolean isAlive() { return thread.isAlive(); }

    /** Stops stepping and waits for the current step to finish; does not close the engine. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() == thread) return;
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private void run() {
        while (!closed) {
            if (!engine.hasWork()) {
                LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                continue;
            }
            try {
                engine.step();
            } catch (Throwable t) {
                try {
                    engine.failInFlight(t);
                } catch (Throwable t2) {
                    t.addSuppressed(t2);
                    log.error("engine step failed and failing its requests failed too", t);
                }
                // Back off a little so an engine that cannot fail its requests does not spin.
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
    }
}
