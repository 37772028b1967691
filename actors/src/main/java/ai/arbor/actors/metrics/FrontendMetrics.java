package ai.arbor.actors.metrics;

import ai.arbor.actors.generation.GenerationEvent;
import kamon.Kamon;
import kamon.tag.TagSet;
import org.apache.pekko.stream.SubscriptionWithCancelException;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The frontend's request metrics, measured on the response's event stream at the HTTP layer, i.e. as the client
 * sees them: time to first token, inter-token latency, sequence lengths, outcome. Meanings follow Dynamo's frontend
 * metrics. Kamon names below; the Prometheus reporter turns dots into underscores and appends {@code _total} to
 * counters and {@code _seconds} to time histograms (recorded in nanoseconds).
 */
public final class FrontendMetrics {
    static final String REQUESTS = "arbor.frontend.requests";
    static final String INFLIGHT = "arbor.frontend.inflight.requests";
    static final String QUEUED = "arbor.frontend.queued.requests";
    static final String DISCONNECTED = "arbor.frontend.disconnected.clients";
    static final String DURATION = "arbor.frontend.request.duration";
    static final String TTFT = "arbor.frontend.time.to.first.token";
    static final String ITL = "arbor.frontend.inter.token.latency";
    static final String INPUT_TOKENS = "arbor.frontend.input.sequence.tokens";
    static final String OUTPUT_TOKENS = "arbor.frontend.output.sequence.tokens";
    static final String CACHED_TOKENS = "arbor.frontend.cached.tokens";

    /** Label values of {@code endpoint}. */
    public static final String CHAT = "chat_completions";
    public static final String COMPLETIONS = "completions";
    public static final String EMBEDDINGS = "embeddings";

    private FrontendMetrics() {}

    /**
     * Wraps one request's event stream: counts it in flight and queued from now, records its latencies as events
     * pass, and its outcome when the stream ends ({@code success}, {@code error}, or {@code cancelled} when the
     * client went away first).
     */
    public static <M> Source<GenerationEvent, M> track(Source<GenerationEvent, M> events, String requestId,
                                                       String model, String endpoint, boolean streaming) {
        return track(events, requestId, model, endpoint, streaming, "-");
    }

    /** Like the above; {@code client} names who sent it in the request log (an API key's name, never the key). */
    public static <M> Source<GenerationEvent, M> track(Source<GenerationEvent, M> events, String requestId,
                                                       String model, String endpoint, boolean streaming,
                                                       String client) {
        Tracker t = new Tracker(requestId, model, endpoint, streaming ? "stream" : "unary", client);
        return events.map(e -> { t.onEvent(e); return e; })
                .watchTermination((mat, done) -> {
                    // a completion stage from Scala: its plain whenComplete would hop to the common pool, which
                    // with fewer than three cores means a new thread per request
                    done.whenCompleteAsync((d, err) -> t.finish(err), Runnable::run);
                    return mat;
                });
    }

    /**
     * A request refused before generation (unreadable or invalid body, over the admission limit): its model and
     * request type may not be known, so both read {@code unknown}.
     */
    public static void refused(String endpoint) {
        Kamon.counter(REQUESTS).withTags(TagSet.builder().add("model", "unknown").add("endpoint", endpoint)
                .add("request_type", "unknown").add("status", "error").build()).increment();
    }

    /**
     * A request answered in one piece without a token stream (an embedding): counted by outcome, {@code success},
     * {@code error} or {@code cancelled} (its client hung up first), as a generation's.
     */
    public static void finished(String model, String endpoint, String status) {
        Kamon.counter(REQUESTS).withTags(TagSet.builder().add("model", model).add("endpoint", endpoint)
                .add("request_type", "unary").add("status", status).build()).increment();
    }

    private static final class Tracker {
        private final String requestId;
        private final String model;
        private final String endpoint;
        private final String requestType;
        private final String client;
        private final ModelInstruments instruments;
        private final long start = System.nanoTime();
        private long lastTokenAt;
        private boolean queuedNow = true;
        private boolean usageSeen;
        private boolean finished;
        private long firstTokenNanos = -1;
        private GenerationEvent.Usage usage;

        Tracker(String requestId, String model, String endpoint, String requestType, String client) {
            this.client = client;
            this.requestId = requestId;
            this.model = model;
            this.endpoint = endpoint;
            this.requestType = requestType;
            this.instruments = ModelInstruments.of(model);
            instruments.inflight.increment();
            instruments.queued.increment();
        }

        // the map stage and the termination callback may run on different threads
        synchronized void onEvent(GenerationEvent e) {
            if (e instanceof GenerationEvent.Delta d && d.tokenIds() != null && d.tokenIds().length > 0) {
                long now = System.nanoTime();
                if (lastTokenAt == 0) {
                    firstTokenNanos = now - start;
                    instruments.ttft.record(firstTokenNanos);
                    leaveQueue();
                } else {
                    instruments.itl.record((now - lastTokenAt) / d.tokenIds().length, d.tokenIds().length);
                }
                lastTokenAt = now;
            } else if (e instanceof GenerationEvent.Usage u) {
                usageSeen = true;
                usage = u;
                instruments.inputTokens.record(u.promptTokens());
                instruments.outputTokens.record(u.completionTokens());
                instruments.cachedTokens.record(u.cachedTokens());
            }
        }

        synchronized void finish(Throwable err) {
            if (finished) return;
            finished = true;
            leaveQueue();
            instruments.inflight.decrement();
            String status;
            if (usageSeen) {
                status = "success";
            } else if (err == null || err instanceof SubscriptionWithCancelException) {
                status = "cancelled";
                instruments.disconnected.increment();
            } else {
                status = "error";
            }
            long duration = System.nanoTime() - start;
            instruments.duration.record(duration);
            RequestLog.finished(requestId, model, endpoint, requestType, client, status, usage, firstTokenNanos, duration,
                    err == null || status.equals("cancelled") ? null : err.getMessage());
            instruments.requests(endpoint, requestType, status).increment();
        }

        private void leaveQueue() {
            if (queuedNow) {
                queuedNow = false;
                instruments.queued.decrement();
            }
        }
    }
}
