package ai.arbor.http;

import ai.arbor.actors.frontend.EmbeddingFailure;
import ai.arbor.actors.frontend.Generation;
import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.frontend.GenerationSpec;
import ai.arbor.actors.metrics.FrontendMetrics;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.config.ChatSettings;
import ai.arbor.config.FrontendSettings;
import ai.arbor.config.PemTls;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.model.headers.TimeoutAccess;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The OpenAI-compatible HTTP API of one frontend: {@code POST /v1/chat/completions}, {@code POST /v1/completions},
 * {@code GET /v1/models}, {@code GET /health}, {@code GET /live}. A plain request handler rather than the routing DSL,
 * because the path set is small and every microsecond on this path is overhead.
 *
 * <p>Other modules add endpoints (e.g. {@code GET /metrics}) with {@link #addEndpoint}.
 */
public final class OpenAiServer {
    private static final ContentType SSE = ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM);
    /**
     * Runs a callback on the thread that completed the stage. Pekko's stages come from Scala futures, whose plain
     * {@code thenApply}/{@code whenComplete} hop to the common pool: with fewer than three cores that is a new thread
     * per callback. Every callback here is short and non-blocking.
     */
    static final Executor SAME_THREAD = Runnable::run;

    /** What {@code GET /version} answers: the build's version from the jar manifest, "dev" outside a jar. */
    static final String VERSION = java.util.Objects.requireNonNullElse(
            OpenAiServer.class.getPackage().getImplementationVersion(), "dev");

    private final ActorSystem<?> system;
    private final ModelRegistry models;
    private final FrontendSettings settings;
    private final Admission admission;
    private final WorkBudget budget;
    private final Authentication auth;
    /** {@code /metrics}: the API keys and the scrape key (arbor.frontend.metrics-key-file). */
    private final Authentication metricsAuth;
    private final PemTls tls;
    private final RequestParser parser;
    private final Tokenization tokenization;
    private final Embeddings embeddings;
    private final InFlightResponses inFlight = new InFlightResponses();
    private final Map<String, Function<HttpRequest, CompletionStage<HttpResponse>>> extra = new ConcurrentHashMap<>();

    public OpenAiServer(ActorSystem<?> system, ModelRegistry models, FrontendSettings settings) {
        this(system, models, settings, ChatSettings.defaults());
    }

    /** @param chat how chat output is read back (tool-call and reasoning parsers) */
    public OpenAiServer(ActorSystem<?> system, ModelRegistry models, FrontendSettings settings, ChatSettings chat) {
        this.system = system;
        this.models = models;
        this.settings = settings;
        this.admission = new Admission(settings.maxQueuedRequests());
        this.budget = new WorkBudget(settings.limits());
        this.auth = new Authentication(settings.security().apiKeys());
        this.metricsAuth = new Authentication(settings.security().metricsKeys());
        var sec = settings.security();
        this.tls = sec.tls() ? new PemTls(sec.tlsCertFile(), sec.tlsKeyFile()) : null;
        this.parser = new RequestParser(models, settings.limits(), chat);
        this.tokenization = new Tokenization(models, chat);
        this.embeddings = new Embeddings(models, settings.limits());
    }

    /** Serves {@code method path} with {@code handler}, ahead of the built-in endpoints. */
    public void addEndpoint(String method, String path, Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        extra.put(method + " " + path, handler);
    }

    public Admission admission() { return admission; }

    /** Sequences and tokens in flight (tests see what a request still holds). */
    WorkBudget budget() { return budget; }

    /** True when {@link #bind} serves HTTPS. */
    public boolean secure() { return tls != null; }

    /** Binds HTTP, or HTTPS when the settings name a certificate (reloaded when its files change). */
    public CompletionStage<ServerBinding> bind(String host, int port) {
        var builder = Http.get(system).newServerAt(host, port);
        if (tls != null) builder = builder.enableHttps(HttpsContext.server(tls));
        return builder.bindFlow(Connection.flow(this::handle, settings.headerTimeout(), inFlight));
    }

    /** What a graceful drain waits for (see {@link InFlightResponses}). */
    public InFlightResponses inFlight() { return inFlight; }

    CompletionStage<HttpResponse> handle(HttpRequest request, Connection connection) {
        String path = request.getUri().path();
        String method = request.method().value();
        // Pekko's own answer when the first event is slower than request-timeout: OpenAI's shape, like every error
        request.getHeader(TimeoutAccess.class).ifPresent(t -> t.timeoutAccess().updateHandler(r -> error(new ApiError(
                503, "service_unavailable", "the request was not answered within "
                + FrontendSettings.requestTimeoutText(settings.requestTimeout()), null, "timeout"))));
        try {
            String client = Authentication.ANONYMOUS;
            boolean metrics = path.equals("/metrics") && settings.security().metricsRequireKey();
            if (path.startsWith("/v1/") || metrics) {
                try {
                    client = (metrics ? metricsAuth : auth).authenticate(request);
                } catch (ApiError e) {
                    discard(request);
                    return CompletableFuture.completedFuture(error(e).addHeader(
                            RawHeader.create("WWW-Authenticate", "Bearer")));
                }
            }
            var handler = extra.get(method + " " + path);
            if (handler != null) return handler.apply(request);
            switch (path) {
                case "/v1/chat/completions":
                    return post(request, Api.CHAT, client, connection);
                case "/v1/completions":
                    return post(request, Api.COMPLETIONS, client, connection);
                case "/v1/responses":
                    return post(request, Api.RESPONSES, client, connection);
                case "/v1/embeddings":
                    return embed(request, connection);
                case "/tokenize":
                    return jsonPost(request, body -> CompletableFuture.completedFuture(tokenization.tokenize(body)));
                case "/detokenize":
                    return jsonPost(request, body -> CompletableFuture.completedFuture(tokenization.detokenize(body)));
                case "/version":
                    requireGet(request);
                    discard(request);
                    return CompletableFuture.completedFuture(json(200, Json.object().put("version", VERSION)));
                case "/v1/models":
                    requireGet(request);
                    discard(request);
                    return CompletableFuture.completedFuture(json(200, listModels()));
                case "/health":
                    requireGet(request);
                    discard(request);
                    return health();
                case "/live":
                    requireGet(request);
                    discard(request);
                    return CompletableFuture.completedFuture(json(200, Json.object().put("status", "live")));
                default:
                    discard(request);
                    throw new ApiError(404, "invalid_request_error", "no such endpoint: " + method + " " + path, null,
                            "not_found");
            }
        } catch (ApiError e) {
            return CompletableFuture.completedFuture(error(e));
        } catch (Exception e) {
            system.log().error("request failed", e);
            return CompletableFuture.completedFuture(error(internal(e)));
        }
    }

    private void discard(HttpRequest request) { request.discardEntityBytes(system); }

    private static void requireGet(HttpRequest r) {
        if (r.method() != HttpMethods.GET) throw methodNotAllowed(r);
    }

    private static ApiError methodNotAllowed(HttpRequest r) {
        return new ApiError(405, "invalid_request_error", "method " + r.method().value() + " not allowed on "
                + r.getUri().path(), null, "method_not_allowed");
    }

    /** The generating endpoints. */
    private enum Api { CHAT, COMPLETIONS, RESPONSES }

    private CompletionStage<HttpResponse> post(HttpRequest request, Api api, String client, Connection connection) {
        boolean chat = api != Api.COMPLETIONS;
        String endpoint = chat ? FrontendMetrics.CHAT : FrontendMetrics.COMPLETIONS;
        Connection.End end = connection.end();
        // the body is read before a slot is taken: a client that sends it slowly (or never) holds no slot
        CompletionStage<HttpEntity.Strict> whole = strictBody(request);
        WorkBudget.Work[] work = {null};
        boolean[] admitted = {false};
        return whole.thenComposeAsync(strict -> {
                admit();
                admitted[0] = true;
                JsonNode body = json(strict);
                ResponsesRequest responses = api == Api.RESPONSES ? ResponsesRequest.parse(body) : null;
                ParsedRequest parsed = responses != null ? parser.chat(responses.chat())
                        : chat ? parser.chat(body) : parser.completion(body);
                WorkBudget.Work w = WorkBudget.of(parsed);
                budget.acquire(w);
                CompletionStage<HttpResponse> response;
                try {
                    String id = (responses != null ? "resp_" : chat ? "chatcmpl-" : "cmpl-") + randomId();
                    long created = System.currentTimeMillis() / 1000;
                    java.util.function.Function<Source<GenerationEvent, NotUsed>, HttpResponse> render;
                    if (responses != null) {
                        ResponsesFormat fmt = new ResponsesFormat(id, created, parsed, responses.body());
                        render = events -> parsed.stream() ? streamed(fmt.sse(events)) : whole(fmt.json(events));
                    } else {
                        OutputFormat fmt = OutputFormat.of(parsed, id, created, parsed.includeUsage());
                        render = events -> parsed.stream() ? streamed(EventsToResponse.sse(fmt, parsed, events))
                                : whole(EventsToResponse.json(fmt, parsed, events));
                    }
                    response = generate(parsed, id, client, connection, end, w, render);
                } catch (RuntimeException e) {
                    budget.release(w);
                    throw e;
                }
                // from here the generation's end releases the slot and the budget
                work[0] = w;
                return response;
            }, SAME_THREAD).exceptionally(t -> {
                if (work[0] == null) {
                    if (admitted[0]) admission.release();
                    FrontendMetrics.refused(endpoint);
                }
                return refusal(t);
            });
    }

    /**
     * {@code /v1/embeddings}: admitted and counted in the work budget like a generation (429 past either), then
     * computed by a worker the model's router picks ({@code Frontend.embed}), in {@code arbor serve} as on a cluster
     * frontend. It ends by the request timeout at the latest (503), and a client that hangs up gives it up at once:
     * slot, budget and route are released then, and the worker drops the job if it has not started.
     */
    private CompletionStage<HttpResponse> embed(HttpRequest request, Connection connection) {
        CompletionStage<HttpEntity.Strict> whole = strictBody(request);
        boolean[] admitted = {false};
        boolean[] started = {false};
        return whole.thenComposeAsync(strict -> {
                admit();
                admitted[0] = true;
                Embeddings.Request r = embeddings.parse(json(strict));
                WorkBudget.Work w = Embeddings.work(r);
                budget.acquire(w);
                started[0] = true;
                // a plain CompletableFuture, completed by the request's actor (or cancelled by the hang-up below):
                // handle runs there, no hop
                CompletableFuture<float[][]> embedding = r.model().frontend().embed("embd-" + randomId(), r.inputs());
                Runnable hangUp = () -> embedding.cancel(false);
                connection.onClose(hangUp);
                // its own deadline (the same setting) answers instead of Pekko's timer: Pekko would close the connection
                request.getHeader(TimeoutAccess.class).ifPresent(t -> t.timeoutAccess().updateTimeout(
                        scala.concurrent.duration.Duration.Inf()));
                return embedding.handle((vectors, t) -> {
                    connection.forget(hangUp);
                    admission.release();
                    budget.release(w);
                    FrontendMetrics.finished(r.model().name(), FrontendMetrics.EMBEDDINGS,
                            t == null ? "success" : embedding.isCancelled() ? "cancelled" : "error");
                    if (t == null) return json(200, Embeddings.response(r, vectors));
                    if (embedding.isCancelled()) {
                        // nobody reads it: Pekko drops a response whose connection has closed
                        return error(new ApiError(499, "invalid_request_error", "the client closed the connection",
                                null, null));
                    }
                    Throwable cause = unwrap(t);
                    if (cause instanceof EmbeddingFailure f) return error(Embeddings.failure(f));
                    system.log().error("embedding failed", cause);
                    return error(internal(cause));
                });
            }, SAME_THREAD).exceptionally(t -> {
                if (!started[0]) {
                    if (admitted[0]) admission.release();
                    FrontendMetrics.refused(FrontendMetrics.EMBEDDINGS);
                }
                return refusal(t);
            });
    }

    /** Takes an admission slot, or throws 429. */
    private void admit() {
        if (!admission.tryAcquire()) {
            throw WorkBudget.busy("too many requests in flight (limit " + admission.limit() + "); retry later");
        }
    }

    /** The answer to a request refused before its work started (or failed unexpectedly after). */
    private HttpResponse refusal(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof ApiError e) {
            HttpResponse r = error(e);
            return e.status() == 429 ? r.addHeader(RetryAfter.create(retryAfterSeconds())) : r;
        }
        ApiError known = BodyErrors.of(cause, settings.maxBodyBytes(), settings.bodyTimeout());
        if (known != null) return error(known);
        system.log().error("request failed", cause);
        return error(internal(cause));
    }

    /**
     * A JSON body, size- and time-limited, with the 405/415/413 checks every POST gets; the declared length is checked
     * before anything is read.
     */
    private CompletionStage<HttpEntity.Strict> strictBody(HttpRequest request) {
        if (request.method() != HttpMethods.POST) {
            discard(request);
            throw methodNotAllowed(request);
        }
        if (!request.entity().getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
            discard(request);
            throw new ApiError(415, "invalid_request_error", "the request body must be JSON, sent with 'Content-Type:"
                    + " application/json'; got '" + request.entity().getContentType() + "'", null,
                    "unsupported_media_type");
        }
        long limit = settings.maxBodyBytes();
        var declared = request.entity().getContentLengthOption();
        if (declared.isPresent() && declared.getAsLong() > limit) {
            // not drained: Pekko closes the connection after the answer rather than read what may be 256 MB
            throw tooLarge(limit);
        }
        return request.entity() instanceof HttpEntity.Strict st
                ? CompletableFuture.completedFuture(st)
                : request.entity().withSizeLimit(limit).toStrict(settings.bodyTimeout().toMillis(), limit, system);
    }

    private static JsonNode json(HttpEntity.Strict strict) {
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(strict.getData().toArray());
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("Invalid JSON in the request body: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiError.badRequest("Unreadable request body: " + e.getMessage());
        }
        if (body == null) throw ApiError.badRequest("the request body is empty; expected a JSON object");
        return body;
    }

    /**
     * A POST answered without an engine (no admission slot: /tokenize, /detokenize): its JSON body
     * goes to {@code handler}; an {@link ApiError} it throws becomes the error response.
     */
    private CompletionStage<HttpResponse> jsonPost(HttpRequest request,
            java.util.function.Function<JsonNode, CompletionStage<? extends JsonNode>> handler) {
        return strictBody(request).thenComposeAsync(strict -> handler.apply(json(strict)), SAME_THREAD)
                .thenApply(out -> json(200, out))
                .exceptionally(this::refusal);
    }

    private long retryAfterSeconds() { return Math.max(1, settings.retryAfter().toSeconds()); }

    private static ApiError tooLarge(long limit) { return BodyErrors.tooLarge(limit); }

    private CompletionStage<HttpResponse> generate(ParsedRequest r, String id, String client, Connection connection,
            Connection.End end, WorkBudget.Work work, java.util.function.Function<Source<GenerationEvent, NotUsed>, HttpResponse> render) {
        Generation g = start(r, id);
        // released once: a response rendered only after the unclaimed run below would run the events a second time
        AtomicBoolean released = new AtomicBoolean();
        Source<GenerationEvent, NotUsed> events = FrontendMetrics.track(g.events(), id, r.model().name(),
                        r.chat() ? FrontendMetrics.CHAT : FrontendMetrics.COMPLETIONS, r.stream(),
                        client)
                .watchTermination((mat, done) -> {
                    done.whenCompleteAsync((d, e) -> {
                        if (released.compareAndSet(false, true)) {
                            admission.release();
                            budget.release(work);
                        }
                        end.run();
                    }, SAME_THREAD);
                    return mat;
                });
        // the events run once: as the response, or here only to end them (the client left before its response
        // started), so that the worker stops and admission, metrics and the request log see the request end
        AtomicBoolean claimed = new AtomicBoolean();
        Runnable giveUp = () -> {
            if (claimed.compareAndSet(false, true)) events.runWith(Sink.cancelled(), system);
        };
        // the actor says so only when the events never ran: a response dropped because its connection had closed
        g.unclaimed().thenRun(() -> events.runWith(Sink.cancelled(), system));
        // a client that hangs up while the request waits for its first token stops it now, not at that token
        connection.onClose(giveUp);
        // wait for the first event so that a request no worker takes still gets a proper error status; the actor
        // says when, so nothing is materialised before the response
        return g.firstEvent().handle((v, t) -> {
            connection.forget(giveUp);
            if (t == null) {
                if (claimed.compareAndSet(false, true)) {
                    // the events' end above is the response's: the connection needs no stage of its own to see it
                    end.reportedByHandler();
                    return render.apply(events);
                }
                return error(new ApiError(499, "invalid_request_error", "the client closed the connection", null, null));
            }
            // the events fail at once: run them all the same, for the same reason as above
            if (claimed.compareAndSet(false, true)) events.runWith(Sink.ignore(), system);
            Throwable cause = unwrap(t);
            if (cause instanceof GenerationEvent.Failure f) {
                return error(new ApiError(f.status(), f.status() == 503 ? "service_unavailable" : "invalid_request_error",
                        f.getMessage(), null, null));
            }
            return error(internal(cause));
        });
    }

    private static HttpResponse streamed(Source<ByteString, NotUsed> sse) {
        return HttpResponse.create().withStatus(200)
                .addHeader(RawHeader.create("Cache-Control", "no-cache"))
                .withEntity(HttpEntities.create(SSE, sse));
    }

    /** A streamed entity even for one JSON document: a client that hangs up cancels the generation. */
    private static HttpResponse whole(Source<ByteString, NotUsed> json) {
        return HttpResponse.create().withStatus(200).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, json));
    }

    /** One generation for the whole request: the prompts' streams merged, choice indexes made global. */
    private static Generation start(ParsedRequest r, String id) {
        var frontend = r.model().frontend();
        if (r.prompts().size() == 1) {
            return frontend.start(new GenerationSpec(id, r.prompts().get(0), r.sampling(), r.n(), r.stop()),
                    r.stream());
        }
        List<Source<GenerationEvent, NotUsed>> parts = new ArrayList<>();
        CompletableFuture<?>[] firsts = new CompletableFuture<?>[r.prompts().size()];
        CompletableFuture<?>[] unclaimed = new CompletableFuture<?>[r.prompts().size()];
        for (int p = 0; p < r.prompts().size(); p++) {
            int offset = p * r.n();
            Generation g = frontend.start(new GenerationSpec(id + "-p" + p, r.prompts().get(p), r.sampling(), r.n(),
                    r.stop()), r.stream());
            parts.add(g.events().map(e -> shift(e, offset)));
            firsts[p] = g.firstEvent().toCompletableFuture();
            unclaimed[p] = g.unclaimed().toCompletableFuture();
        }
        // the merged stream's first event is whichever part's comes first, or fails if a part fails before that
        return new Generation(Source.from(parts).flatMapMerge(parts.size(), s -> s),
                CompletableFuture.anyOf(firsts).thenApply(x -> null), CompletableFuture.anyOf(unclaimed).thenApply(x -> null));
    }

    private static GenerationEvent shift(GenerationEvent e, int offset) {
        if (offset == 0) return e;
        if (e instanceof GenerationEvent.Delta d) {
            return new GenerationEvent.Delta(d.index() + offset, d.text(), d.tokenIds(), d.logprobs());
        }
        if (e instanceof GenerationEvent.Finished f) return new GenerationEvent.Finished(f.index() + offset, f.reason());
        return e;
    }

    private ObjectNode listModels() {
        ObjectNode root = Json.object();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (ServedModel m : models.all()) {
            ObjectNode o = data.addObject();
            o.put("id", m.name());
            o.put("object", "model");
            o.put("created", m.createdEpochSeconds());
            o.put("owned_by", "arbor");
            o.put("root", m.name());
            o.put("max_model_len", m.maxModelLen());
        }
        return root;
    }

    /** 200 once every served model has a ready worker; 503 with the reason before. */
    private CompletionStage<HttpResponse> health() {
        var all = models.all();
        if (all.isEmpty()) {
            return CompletableFuture.completedFuture(error(new ApiError(503, "service_unavailable",
                    "no model is registered yet", null, "not_ready")));
        }
        List<CompletableFuture<RouterActor.Status>> asks = new ArrayList<>();
        for (ServedModel m : all) {
            asks.add(AskPattern.<RouterActor.Command, RouterActor.Status>ask(m.frontend().router(),
                    RouterActor.GetStatus::new, Duration.ofSeconds(2), system.scheduler()).toCompletableFuture());
        }
        return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).handle((v, t) -> {
            ObjectNode ok = Json.object().put("status", "healthy");
            ArrayNode list = ok.putArray("models");
            for (int i = 0; i < asks.size(); i++) {
                RouterActor.Status s = asks.get(i).isCompletedExceptionally() ? null : asks.get(i).join();
                String name = s == null ? "?" : s.model();
                if (s == null || s.workers() == 0) {
                    return error(new ApiError(503, "service_unavailable", "no worker for model '" + name
                            + "' is ready yet", null, "not_ready"));
                }
                list.addObject().put("model", s.model()).put("workers", s.workers())
                        .put("active_requests", s.activeRequests());
            }
            return json(200, ok);
        });
    }

    /**
     * nginx's 499, what a request whose client hung up first ends with. Pekko makes no response of a status it does not
     * know (it throws), so it is declared here.
     */
    private static final org.apache.pekko.http.javadsl.model.StatusCode CLIENT_CLOSED =
            org.apache.pekko.http.javadsl.model.StatusCodes.custom(499, "Client Closed Request",
                    "The client closed the connection before the answer.", false, true);

    static HttpResponse json(int status, JsonNode body) {
        return HttpResponse.create().withStatus(status == 499 ? CLIENT_CLOSED
                        : org.apache.pekko.http.javadsl.model.StatusCodes.get(status))
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, Json.bytes(body)));
    }

    static HttpResponse error(ApiError e) { return json(e.status(), e.toJson()); }

    private static ApiError internal(Throwable t) {
        return new ApiError(500, "internal_server_error", "internal error: " + t, null, null);
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String randomId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
    }

}
