package ai.arbor.actors.frontend;

import ai.arbor.actors.router.RouterActor;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.stream.CompletionStrategy;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A frontend's entry point for one served model: turns a {@link GenerationSpec} into a back-pressured stream of
 * {@link GenerationEvent}s by spawning the request's {@link RequestActor}. Thread-safe; the HTTP layer calls it from
 * its route handlers.
 */
public final class Frontend {
    private final ActorSystem<?> system;
    private final ActorRef<RouterActor.Command> router;
    private final ModelTokenizer tokenizer;
    private final Duration routeTimeout;
    private final AtomicLong sequence = new AtomicLong();

    public Frontend(ActorSystem<?> system, ActorRef<RouterActor.Command> router, ModelTokenizer tokenizer,
                    Duration routeTimeout) {
        this.system = system;
        this.router = router;
        this.tokenizer = tokenizer;
        this.routeTimeout = routeTimeout;
    }

    public ModelTokenizer tokenizer() { return tokenizer; }

    public ActorRef<RouterActor.Command> router() { return router; }

    /**
     * Starts generating at once (routing overlaps the response's set-up); the stream ends after a
     * {@link GenerationEvent.Usage}, or fails with a {@link GenerationEvent.Failure}. Cancelling the stream cancels
     * the generation.
     */
    public Source<GenerationEvent, NotUsed> generate(GenerationSpec spec) { return start(spec).events(); }

    /** Like {@link #generate}, with signals for when the first event is ready; see {@link Generation}. */
    public Generation start(GenerationSpec spec) {
        CompletableFuture<Void> firstEvent = new CompletableFuture<>();
        CompletableFuture<Void> unclaimed = new CompletableFuture<>();
        ActorRef<RequestActor.Command> actor = system.systemActorOf(
                RequestActor.create(spec, tokenizer, router, routeTimeout, firstEvent, unclaimed),
                "request-" + sequence.incrementAndGet(), Props.empty());
        Source<GenerationEvent, NotUsed> events = Source.<GenerationEvent>actorRefWithBackpressure(RequestActor.Ack.INSTANCE,
                        m -> m == RequestActor.COMPLETE ? Optional.of(CompletionStrategy.draining()) : Optional.empty(),
                        m -> m instanceof RequestActor.Fail f ? Optional.of(f.failure()) : Optional.empty())
                .mapMaterializedValue(ref -> {
                    if (!unclaimed.isDone()) {
                        actor.tell(new RequestActor.StreamReady(ref));
                    } else { // run after the actor gave the request up: end at once
                        ref.tell(new RequestActor.Fail(new GenerationEvent.Failure(503, "the request was given up: "
                                + "its events were not taken in time")), org.apache.pekko.actor.ActorRef.noSender());
                    }
                    return NotUsed.getInstance();
                });
        return new Generation(events, firstEvent, unclaimed);
    }
}
