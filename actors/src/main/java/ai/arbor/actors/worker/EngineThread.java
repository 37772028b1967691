package ai.arbor.actors.worker;

import ai.arbor.gpu.engine.InferenceEngine;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that steps a worker's engine: it steps while the engine has work and parks otherwise, so an idle
 * worker costs nothing and a new request starts at once ({@link #wakeup()} unparks it). Kept off every dispatcher
 * because a step is long blocking compute.
 */
final class EngineThread implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EngineThread.class);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final InferenceEngine engine;
    private final Thread thread;
    private volatile boolean closed;

    EngineThread(InferenceEngine engine, String name) {
        this.engine = engine;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    void start() { thread.start(); }

    /** Called after a request was added: the thread steps it without waiting for its idle poll. */
    void wakeup() { LockSupport.unpark(thread); }

    private void run() {
        while (!closed) {
            if (!engine.hasWork()) {
                LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                continue;
            }
            try {
                engine.step();
            } catch (RuntimeException | Error e) {
                // a failed step must not kill the worker silently; back off so a persistent fault does not spin
                log.error("engine step failed", e);
                LockSupport.parkNanos(this, IDLE_PARK_NANOS);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
