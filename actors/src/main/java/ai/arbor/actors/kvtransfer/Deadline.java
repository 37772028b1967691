package ai.arbor.actors.kvtransfer;

import java.io.IOException;
import java.nio.channels.Channel;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A transfer's deadline: when it passes, the transfer's channel is closed, which fails whatever read or write is
 * blocked on it at once (blocking NIO channels ignore socket timeouts). A transfer on a kept connection disarms it
 * when done, and keeps the connection only if it had not fired.
 */
final class Deadline implements AutoCloseable {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kv-transfer-deadlines");
        t.setDaemon(true);
        return t;
    });

    private final long endNanos;
    private final ScheduledFuture<?> closer;
    private volatile boolean expired;

    private Deadline(Channel ch, long timeoutMs) {
        this.endNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        this.closer = TIMER.schedule(() -> {
            expired = true;
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
        }, timeoutMs, TimeUnit.MILLISECONDS);
    }

    static Deadline closing(Channel ch, long timeoutMs) { return new Deadline(ch, timeoutMs); }

    long remainingMillis() { return Math.max(1, TimeUnit.NANOSECONDS.toMillis(endNanos - System.nanoTime())); }

    /** Whether the deadline passed (so the channel is closed or being closed). */
    boolean fired() { return expired; }

    /**
     * Stops the deadline; true when it had not fired, so the channel is open and may serve another transfer. False
     * also when the closer is running right now.
     */
    boolean disarm() { return closer.cancel(false) && !expired; }

    @Override
    public void close() { closer.cancel(false); }
}
