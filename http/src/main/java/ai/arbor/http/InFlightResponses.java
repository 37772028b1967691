package ai.arbor.http;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.japi.function.Function2;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;

/**
 * The responses a server is still sending, for a graceful drain: a request counts from its arrival until its response
 * is complete — for a stream, until its last byte is written, which Pekko's own {@code ServerBinding.terminate} does
 * not wait for (it considers a streamed response done once its headers are out, and cuts the stream). Once
 * {@link #refuseNew} is called, requests that still arrive on open connections get a 503 with
 * {@code Connection: close}; {@link #idle} completes when the last response in flight is done.
 */
public final class InFlightResponses {
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean refusing;
    private final CompletableFuture<Done> idle = new CompletableFuture<>();

    /** {@code handler}, counted. */
    Function2<HttpRequest, Connection, CompletionStage<HttpResponse>> wrap(
            Function2<HttpRequest, Connection, CompletionStage<HttpResponse>> handler) {
        return (request, connection) -> handle(r -> handler.apply(r, connection), request);
    }

    private CompletionStage<HttpResponse> handle(Function<HttpRequest, CompletionStage<HttpResponse>> handler, HttpRequest request)
            throws Exception {
        if (refusing) {
            return CompletableFuture.completedFuture(OpenAiServer.error(new ApiError(503, "service_unavailable",
                    "this server is shutting down: retry on another", null, "draining")).addHeader(org.apache.pekko.http.javadsl.model.headers.Connection.create("close")));
        }
        inFlight.incrementAndGet();
        CompletionStage<HttpResponse> response;
        try {
            response = handler.apply(request);
        } catch (Exception | Error e) {
            done();
            throw e;
        }
        return response.handleAsync((r, failure) -> {
            if (failure != null) {
                done();
                throw failure instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(failure);
            }
            if (r.entity().isStrict()) {
                done();
                return r;
            }
            // counted until the body's stream ends, however it ends (completed, failed, or the client went away)
            Flow<ByteString, ByteString, Object> watch = Flow.<ByteString>create().watchTermination((mat, finished) -> {
                finished.whenCompleteAsync((d, e) -> done(), OpenAiServer.SAME_THREAD);
                return mat;
            });
            // the Java model has no transformDataBytes; every entity is also the Scala model's
            var entity = (org.apache.pekko.http.scaladsl.model.ResponseEntity) r.entity();
            return r.withEntity(entity.transformDataBytes(watch.asScala()));
        }, OpenAiServer.SAME_THREAD);
    }

    private void done() {
        if (inFlight.decrementAndGet() == 0 && refusing) idle.complete(Done.getInstance());
    }

    /** Responses still being sent. */
    public int count() { return inFlight.get(); }

    /** From now on new requests get 503 with {@code Connection: close}. */
    public void refuseNew() {
        refusing = true;
        if (inFlight.get() == 0) idle.complete(Done.getInstance());
    }

    /** Completes when no response is in flight after {@link #refuseNew}, or after {@code timeout}, whichever is first. */
    public CompletionStage<Done> idle(Duration timeout) {
        return idle.completeOnTimeout(Done.getInstance(), timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
