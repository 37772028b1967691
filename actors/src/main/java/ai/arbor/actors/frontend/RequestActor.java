package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.worker.LocalReplies;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.SamplingParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.pekko.actor.DeadLetterSuppression;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The frontend's actor for one API request: asks the router for a worker, which starts the request's choices there,
 * and hands what comes back to the HTTP response's stream through an {@link EventChannel}, which decodes it into text
 * on demand. The engine is never slowed by a slow client; outputs wait in the channel instead.
 *
 * <p>When the worker is in this actor system its engine thread puts the outputs into the channel itself
 * ({@link LocalReplies}) and tells this actor only of a choice's first and last output; a remote worker's outputs come
 * as messages and this actor puts them there. Either way the actor keeps the request's life: the router's in-flight
 * count, timeouts, and cancelling at the worker when a stop string ended a choice or the stream went away (the client
 * disconnected), which frees the KV blocks.
 */
public final class RequestActor extends AbstractBehavior<RequestActor.Command> {

    /** Local to the frontend's JVM, unlike the worker and router protocols. */
    public sealed interface Command extends NoSerializationVerificationNeeded
            permits StreamReady, RouteResult, RouteTimeout, FromWorker, Delivered, ChoiceStopped, StreamGone,
            WorkerGone, NoStream {}

    /**
     * The response stream started and takes the events from the channel. Sent by the stream, which may outlive the
     * actor (after the end, or after the actor gave up): no dead-letter noise then.
     */
    enum StreamReady implements Command, DeadLetterSuppression { INSTANCE }

    private record RouteResult(RouterActor.RouteReply reply) implements Command {}

    private enum RouteTimeout implements Command { INSTANCE }

    private record FromWorker(WorkerActor.Reply reply) implements Command {}

    /**
     * The engine thread put a choice's first or last output into the channel itself. It keeps coming after the actor
     * stopped (the client left) until the worker has the cancel: no dead-letter noise.
     */
    private record Delivered(String engineRequestId, boolean finished, FinishReason reason)
            implements Command, DeadLetterSuppression {}

    /** The stream found a stop string in choice {@code index}, whose engine request still runs. */
    record ChoiceStopped(int index) implements Command, DeadLetterSuppression {}

    /** The stream stopped before its last event: the client went away. */
    enum StreamGone implements Command, DeadLetterSuppression { INSTANCE }

    private enum WorkerGone implements Command { INSTANCE }

    private enum NoStream implements Command { INSTANCE }

    /**
     * How long the first event waits for its stream before the request is given up. The HTTP layer runs the stream
     * as soon as it sent the headers, unless the client left meanwhile (like Pekko's subscription timeout).
     */
    static final Duration NO_STREAM_TIMEOUT = Duration.ofSeconds(5);

    static Behavior<Command> create(GenerationSpec spec, ActorRef<RouterActor.Command> router, Duration routeTimeout,
                                    Duration noStreamTimeout, EventChannel channel,
                                    CompletableFuture<Void> firstEvent, CompletableFuture<Void> unclaimed) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RequestActor(ctx, timers, spec, router,
                routeTimeout, noStreamTimeout, channel, firstEvent, unclaimed)));
    }

    private final GenerationSpec spec;
    private final ActorRef<RouterActor.Command> router;
    private final TimerScheduler<Command> timers;
    /** Per choice: its engine request ended (last output seen, or cancelled after a stop string). */
    private final boolean[] ended;
    private final EventChannel channel;
    private final Duration noStreamTimeout;
    private final CompletableFuture<Void> firstEvent;
    private final CompletableFuture<Void> unclaimed;
    private boolean streamStarted;
    private boolean terminalSent;
    private ActorRef<WorkerActor.Command> worker;
    private final ActorRef<WorkerActor.Reply> replies;
    private boolean routed;
    private boolean released;
    private int unfinished;

    private RequestActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, GenerationSpec spec,
                         ActorRef<RouterActor.Command> router, Duration routeTimeout, Duration noStreamTimeout,
                         EventChannel channel, CompletableFuture<Void> firstEvent, CompletableFuture<Void> unclaimed) {
        super(ctx);
        this.spec = spec;
        this.noStreamTimeout = noStreamTimeout;
        this.channel = channel;
        this.firstEvent = firstEvent;
        this.unclaimed = unclaimed;
        this.router = router;
        this.timers = timers;
        this.ended = new boolean[spec.n()];
        this.unfinished = spec.n();
        // a message adapter and a timer rather than ctx.ask: the javadsl ask completes through a Scala future's
        // CompletionStage, which runs its callback on the common pool (a new thread per request on two cores)
        timers.startSingleTimer(RouteTimeout.INSTANCE, routeTimeout);
        replies = ctx.messageAdapter(WorkerActor.Reply.class, FromWorker::new);
        LocalReplies.get(ctx.getSystem()).register(replies, directDelivery());
        List<WorkerActor.Generate> start = new ArrayList<>(ended.length);
        for (int i = 0; i < ended.length; i++) {
            start.add(new WorkerActor.Generate(new EngineRequest(spec.engineRequestId(i), spec.promptTokenIds(),
                    samplingOf(i)), replies));
        }
        // the router starts the choices at the worker it picks: a hop less before the engine sees them
        router.tell(new RouterActor.Route(spec.requestId(), spec.promptTokenIds(),
                ctx.messageAdapter(RouterActor.RouteReply.class, RouteResult::new), start));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StreamReady.class, r -> onStreamReady())
                .onMessage(RouteResult.class, this::onRouted)
                .onMessage(RouteTimeout.class, t -> routed || terminalSent || released ? this
                        : fail(503, "no worker answered for this model in time"))
                .onMessage(FromWorker.class, this::onWorkerReply)
                .onMessage(Delivered.class, d -> onDelivered(d.engineRequestId(), d.finished(), d.reason()))
                .onMessage(ChoiceStopped.class, this::onChoiceStopped)
                .onMessage(StreamGone.class, g -> abandon())
                .onMessage(WorkerGone.class, g -> fail(503, "the worker serving this request stopped"))
                .onMessage(NoStream.class, g -> streamStarted ? this : unclaimed())
                .onSignal(PostStop.class, s -> {
                    LocalReplies.get(getContext().getSystem()).unregister(replies);
                    return this;
                })
                .build();
    }

    private Behavior<Command> onStreamReady() {
        streamStarted = true;
        timers.cancel(NoStream.INSTANCE);
        // the stream takes the rest from the channel on its own
        return done() ? Behaviors.stopped() : this;
    }

    /** Nothing left for the actor: the stream has started and takes the rest, and no engine request runs. */
    private boolean done() { return streamStarted && (terminalSent || unfinished == 0); }

    private Behavior<Command> onRouted(RouteResult r) {
        if (terminalSent || released) {
            // too late (timed out, or the client left): the router counted the request and started it at the worker,
            // so both must hear it ended
            if (r.reply() instanceof RouterActor.Routed late) {
                for (int i = 0; i < ended.length; i++) {
                    late.worker().tell(new WorkerActor.Cancel(spec.engineRequestId(i)));
                }
                router.tell(new RouterActor.Release(spec.requestId()));
            }
            return this;
        }
        timers.cancel(RouteTimeout.INSTANCE);
        if (r.reply() instanceof RouterActor.NoWorkers nw) return fail(503, nw.reason());
        routed = true;
        // the router already sent the worker our Generate messages
        worker = ((RouterActor.Routed) r.reply()).worker();
        getContext().watchWith(worker, WorkerGone.INSTANCE);
        return this;
    }

    /**
     * For a worker in this actor system, on its engine thread: outputs go straight into the channel; the actor hears
     * of the first (the response can start) and of each choice's last, failures come to it as messages.
     */
    private Consumer<WorkerActor.Reply> directDelivery() {
        ActorRef<Command> self = getContext().getSelf();
        AtomicBoolean first = new AtomicBoolean(true);
        return reply -> {
            if (!(reply instanceof WorkerActor.Output o)) {
                self.tell(new FromWorker(reply));
                return;
            }
            RequestOutput out = o.output();
            channel.offer(out);
            if (out.finished() || (first.get() && first.compareAndSet(true, false))) {
                self.tell(new Delivered(out.requestId(), out.finished(), out.finishReason()));
            }
        };
    }

    private SamplingParams samplingOf(int choice) {
        SamplingParams s = spec.sampling();
        if (choice == 0 || s.seed() == null) return s;
        return s.withSeed(s.seed() + choice);
    }

    private Behavior<Command> onWorkerReply(FromWorker m) {
        if (terminalSent) return this;
        if (m.reply() instanceof WorkerActor.Rejected rej) return fail(400, rej.reason());
        if (m.reply() instanceof WorkerActor.Failed f) return fail(500, f.message());
        RequestOutput out = ((WorkerActor.Output) m.reply()).output();
        if (spec.choiceOf(out.requestId()) < 0) return this;
        channel.offer(out);
        return onDelivered(out.requestId(), out.finished(), out.finishReason());
    }

    /** An output of choice {@code engineRequestId} is in the channel. */
    private Behavior<Command> onDelivered(String engineRequestId, boolean finished, FinishReason reason) {
        if (terminalSent) return this;
        int index = spec.choiceOf(engineRequestId);
        // a choice cancelled here (stop string) ends with an abort: expected, and already counted
        if (index < 0 || ended[index]) return this;
        // not cancelled by us: the stream fails with the same reason when it decodes the output
        if (finished && reason == FinishReason.ABORT) return fail(503, "the worker aborted the request");
        if (!firstEvent.isDone()) {
            firstEvent.complete(null);
            // the stream has a while to come for the events
            if (!streamStarted) timers.startSingleTimer(NoStream.INSTANCE, noStreamTimeout);
        }
        return finished ? choiceEnded(index) : this;
    }

    private Behavior<Command> onChoiceStopped(ChoiceStopped s) {
        if (!ended[s.index()]) worker.tell(new WorkerActor.Cancel(spec.engineRequestId(s.index())));
        return choiceEnded(s.index());
    }

    private Behavior<Command> choiceEnded(int index) {
        if (ended[index]) return this;
        ended[index] = true;
        if (--unfinished > 0) return this;
        release();
        return done() ? Behaviors.stopped() : this;
    }

    /** Ends the stream with a failure, once the stream has taken what came before it. */
    private Behavior<Command> fail(int status, String message) {
        cancelUnfinished();
        release();
        GenerationEvent.Failure f = new GenerationEvent.Failure(status, message);
        channel.offer(f);
        terminalSent = true;
        if (!firstEvent.isDone()) {
            firstEvent.completeExceptionally(f);
            if (!streamStarted) timers.startSingleTimer(NoStream.INSTANCE, noStreamTimeout);
        }
        return streamStarted ? Behaviors.stopped() : this;
    }

    /** Nobody came for the events (the client left before its response started): give the request up. */
    private Behavior<Command> unclaimed() {
        cancelUnfinished();
        release();
        // a stream that still starts ends at once
        channel.offer(new GenerationEvent.Failure(503, "the request was given up: its response did not start in time"));
        unclaimed.complete(null);
        return Behaviors.stopped();
    }

    /** The client went away: stop generating and free everything. */
    private Behavior<Command> abandon() {
        cancelUnfinished();
        release();
        return Behaviors.stopped();
    }

    private void cancelUnfinished() {
        if (worker == null) return;
        for (int i = 0; i < ended.length; i++) {
            if (!ended[i]) {
                ended[i] = true;
                worker.tell(new WorkerActor.Cancel(spec.engineRequestId(i)));
            }
        }
        unfinished = 0;
    }

    private void release() {
        if (released) return;
        released = true;
        if (routed) router.tell(new RouterActor.Release(spec.requestId()));
    }
}
