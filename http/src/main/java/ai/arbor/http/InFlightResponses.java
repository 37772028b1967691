package ai.arbor.http;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The responses a server is still sending, for a graceful drain: a request counts from its arrival until its response
 * is complete — for a stream, until its last chunk is handed to the connection.
 *
 * <p>Pekko's own {@code ServerBinding.terminate} is no drain: it considers a streamed response done once its headers
 * are out, and it aborts every connection it finds idle, discarding what is still buffered on its way to the socket. So
 * a drain here never calls it while responses finish: once {@link #refuseNew} is called, requests that still arrive get
 * a 503 with {@code Connection: close}, and each open connection is closed the graceful way (its request stream
 * completed, so Pekko sends what is buffered and then closes) as soon as it has no response in flight.
 * {@link #idle} completes when the last response is done.
 */
public final class InFlightResponses {
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private volatile boolean refusing;
    private final CompletableFuture<Done> idle = new CompletableFuture<>();

    /** Whether a request that arrives now may start; if it may, it is counted until {@link #done}. */
    boolean admit() {
        if (refusing) return false;
        inFlight.incrementAndGet();
        // a drain that began between the check and the count may have found none in flight and finished already
        if (refusing) {
            done();
            return false;
        }
        return true;
    }

    /** What a request that may not start gets: one instance, so that a connection can tell it from a counted one. */
    static final HttpResponse REFUSAL = OpenAiServer.error(new ApiError(503, "service_unavailable",
            "this server is shutting down: retry on another", null, "draining"))
            .addHeader(org.apache.pekko.http.javadsl.model.headers.Connection.create("close"));

    void done() {
        if (inFlight.decrementAndGet() == 0 && refusing) idle.complete(Done.getInstance());
    }

    void opened(Connection connection) {
        open.add(connection);
        // added before reading the flag, so a drain starting now either sees this connection or is seen here
        if (refusing) connection.closeWhenIdle();
    }

    void closed(Connection connection) { open.remove(connection); }

    /** Responses still being sent. */
    public int count() { return inFlight.get(); }

    /** Connections still open. */
    public int connections() { return open.size(); }

    /**
     * From now on new requests get 503 with {@code Connection: close}, and every connection closes once it has no
     * response in flight.
     */
    public void refuseNew() {
        refusing = true;
        open.forEach(Connection::closeWhenIdle);
        if (inFlight.get() == 0) idle.complete(Done.getInstance());
    }

    /** Completes when no response is in flight after {@link #refuseNew}, or after {@code timeout}, whichever is first. */
    public CompletionStage<Done> idle(Duration timeout) {
        return idle.completeOnTimeout(Done.getInstance(), timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
