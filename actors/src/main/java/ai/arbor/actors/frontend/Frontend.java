package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.config.FrontendSettings;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A frontend's entry point for one served model: turns a {@link GenerationSpec} into a back-pressured stream of
 * {@link GenerationEvent}s by spawning the request's {@link RequestActor}, and embedding inputs into vectors by
 * spawning an {@link EmbeddingActor}; both go through the model's router. Thread-safe; the HTTP layer calls it from
 * its route handlers.
 */
public final class Frontend {
    private final ActorSystem<?> system;
    private final ActorRef<RouterActor.Command> router;
    private final ModelTokenizer tokenizer;
    private final RequestActor.Routing routing;
    private final Duration noStreamTimeout;
    /** How long an embedding may take, routing included, before it answers that it timed out. */
    private final Duration embeddingDeadline;
    /**
     * Names request actors apart: one per JVM, not per frontend, since every served model's frontend spawns them under
     * the same parent (/system) of one actor system.
     */
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /**
     * @param routeTimeout   how long a request waits for a worker
     * @param migrationLimit how often a request may move to another worker when its worker is lost (0: never)
     */
    public Frontend(ActorSystem<?> system, ActorRef<RouterActor.Command> router, ModelTokenizer tokenizer,
                    Duration routeTimeout, int migrationLimit) {
        this(system, router, tokenizer, routeTimeout, migrationLimit, RequestActor.NO_STREAM_TIMEOUT,
                DEFAULT_EMBEDDING_DEADLINE);
    }

    /** Arbor's {@code pekko.http.server.request-timeout}, for frontends not made from settings. */
    static final Duration DEFAULT_EMBEDDING_DEADLINE = Duration.ofSeconds(600);

    /**
     * @param noStreamTimeout   how long a first event waits for its stream before the request is given up
     * @param embeddingDeadline how long an embedding may take before it fails as timed out
     */
    Frontend(ActorSystem<?> system, ActorRef<RouterActor.Command> router, ModelTokenizer tokenizer,
             Duration routeTimeout, int migrationLimit, Duration noStreamTimeout, Duration embeddingDeadline) {
        if (migrationLimit < 0) throw new IllegalArgumentException("migration limit must be >= 0: " + migrationLimit);
        this.system = system;
        this.router = router;
        this.tokenizer = tokenizer;
        this.routing = new RequestActor.Routing(router, routeTimeout, migrationLimit);
        this.noStreamTimeout = noStreamTimeout;
        this.embeddingDeadline = embeddingDeadline;
    }

    /**
     * The one way a served model's frontend is assembled, in {@code arbor serve} and on a cluster frontend alike: its
     * {@link RouterActor} (a system actor, over the workers the Receptionist lists, picking with {@code selector})
     * and a frontend whose requests go through it.
     */
    public static Frontend start(ActorSystem<?> system, String servedModelName, WorkerSelector selector,
                                 ModelTokenizer tokenizer, FrontendSettings settings) {
        ActorRef<RouterActor.Command> router = system.systemActorOf(
                RouterActor.create(servedModelName, selector, settings.workerWait()),
                "router-" + URLEncoder.encode(servedModelName, StandardCharsets.UTF_8), Props.empty());
        return new Frontend(system, router, tokenizer, settings.workerWait(), settings.migrationLimit(),
                RequestActor.NO_STREAM_TIMEOUT, settings.requestTimeout());
    }

    public ModelTokenizer tokenizer() { return tokenizer; }

    public ActorRef<RouterActor.Command> router() { return router; }

    /**
     * Embeds {@code inputs} (token ids) on a worker the router picks, as a generation is placed: counted in the
     * router's load until it ends, sent again to another worker if its worker is lost. Completes with one pooled,
     * normalised vector per input, or fails with an {@link EmbeddingFailure}, at the latest after the request timeout
     * ({@link EmbeddingFailure#timedOut()}). Cancelling the future gives the embedding up: the router stops counting it
     * and its worker drops the job if it has not started.
     */
    public CompletableFuture<float[][]> embed(String requestId, List<int[]> inputs) {
        CompletableFuture<float[][]> result = new CompletableFuture<>();
        system.systemActorOf(EmbeddingActor.create(requestId, List.copyOf(inputs), routing, embeddingDeadline, result),
                "embedding-" + SEQUENCE.incrementAndGet(), Props.empty());
        return result;
    }

    /**
     * Starts generating at once (routing overlaps the response's set-up); the stream ends after a
     * {@link GenerationEvent.Usage}, or fails with a {@link GenerationEvent.Failure}. Cancelling the stream cancels
     * the generation.
     */
    public Source<GenerationEvent, NotUsed> generate(GenerationSpec spec) { return start(spec).events(); }

    /** Like {@link #generate}, with signals for when the first event is ready; see {@link Generation}. */
    public Generation start(GenerationSpec spec) { return start(spec, true); }

    /**
     * Like {@link #start(GenerationSpec)}; {@code streamed} false: the caller uses the text only when the request
     * ends (one JSON document), so the tokens between a choice's first and last may reach it merged, all at the end.
     */
    public Generation start(GenerationSpec spec, boolean streamed) {
        EventChannel channel = new EventChannel(new OutputDecoder(spec, tokenizer), streamed || !spec.stop().isEmpty());
        CompletableFuture<Void> firstEvent = new CompletableFuture<>();
        CompletableFuture<Void> unclaimed = new CompletableFuture<>();
        ActorRef<RequestActor.Command> actor = system.systemActorOf(
                RequestActor.create(spec, routing, noStreamTimeout, channel, firstEvent, unclaimed),
                "request-" + SEQUENCE.incrementAndGet(), Props.empty());
        return new Generation(Source.fromGraph(new EventSource(channel, actor)), firstEvent, unclaimed);
    }
}
