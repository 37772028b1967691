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
import java.util.Arrays;
import java.util.List;
import java.util.Set;
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
 *
 * <p>When the worker is lost before the last output (it stopped, or the router reports its cluster member unreachable
 * or gone), the unfinished choices move to another worker, up to {@code migrationLimit} times: each continues as a new
 * engine request whose prompt is the original prompt plus the tokens it generated so far, with its budget reduced by
 * as many ({@link ChoiceProgress}). The client sees one stream, with token counts as if nothing had happened.
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
    private record Delivered(int index, boolean finished, FinishReason reason)
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

    /** How long a request waits for a worker, and how often it may move to another when its worker is lost. */
    record Routing(ActorRef<RouterActor.Command> router, Duration routeTimeout, int migrationLimit) {}

    static Behavior<Command> create(GenerationSpec spec, Routing routing, Duration noStreamTimeout,
                                    EventChannel channel, CompletableFuture<Void> firstEvent,
                                    CompletableFuture<Void> unclaimed) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RequestActor(ctx, timers, spec, routing,
                noStreamTimeout, channel, firstEvent, unclaimed)));
    }

    private final GenerationSpec spec;
    private final ActorRef<RouterActor.Command> router;
    private final Routing routing;
    private final TimerScheduler<Command> timers;
    private final ChoiceProgress[] progress;
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
    private final ActorRef<RouterActor.RouteReply> routeReplies;
    private int migrations;
    private boolean routed;
    private boolean released;
    private int unfinished;

    private RequestActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, GenerationSpec spec,
                         Routing routing, Duration noStreamTimeout, EventChannel channel,
                         CompletableFuture<Void> firstEvent, CompletableFuture<Void> unclaimed) {
        super(ctx);
        this.spec = spec;
        this.noStreamTimeout = noStreamTimeout;
        this.channel = channel;
        this.firstEvent = firstEvent;
        this.unclaimed = unclaimed;
        this.routing = routing;
        this.router = routing.router();
        this.timers = timers;
        this.ended = new boolean[spec.n()];
        this.progress = new ChoiceProgress[spec.n()];
        for (int i = 0; i < progress.length; i++) {
            progress[i] = new ChoiceProgress(spec.engineRequestId(i), spec.promptTokenIds().length);
        }
        this.unfinished = spec.n();
        // a message adapter and a timer rather than ctx.ask: the javadsl ask completes through a Scala future's
        // CompletionStage, which runs its callback on the common pool (a new thread per request on two cores)
        timers.startSingleTimer(RouteTimeout.INSTANCE, routing.routeTimeout());
        replies = ctx.messageAdapter(WorkerActor.Reply.class, FromWorker::new);
        routeReplies = ctx.messageAdapter(RouterActor.RouteReply.class, RouteResult::new);
        LocalReplies.get(ctx.getSystem()).register(replies, directDelivery());
        List<WorkerActor.Generate> start = new ArrayList<>(ended.length);
        for (int i = 0; i < ended.length; i++) {
            start.add(new WorkerActor.Generate(new EngineRequest(spec.engineRequestId(i), spec.promptTokenIds(),
                    samplingOf(i)), replies));
        }
        // the router starts the choices at the worker it picks: a hop less before the engine sees them
        router.tell(new RouterActor.Route(spec.requestId(), spec.promptTokenIds(), routeReplies, start));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StreamReady.class, r -> onStreamReady())
                .onMessage(RouteResult.class, this::onRouted)
                .onMessage(RouteTimeout.class, t -> routed || terminalSent || released ? this
                        : fail(503, "no worker answered for this model in time"))
                .onMessage(FromWorker.class, this::onWorkerReply)
                .onMessage(Delivered.class, d -> onDelivered(d.index(), d.finished(), d.reason()))
                .onMessage(ChoiceStopped.class, this::onChoiceStopped)
                .onMessage(StreamGone.class, g -> abandon())
                .onMessage(WorkerGone.class, g -> worker == null ? this : migrate("its worker " + worker.path() + " stopped", false))
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
        if (r.reply() instanceof RouterActor.WorkerLost lost) {
            return lost.worker().equals(worker) ? migrate("its worker " + worker.path().address() + " was lost", true) : this;
        }
        if (terminalSent || released) {
            // too late (timed out, or the client left): the router counted the request and started it at the worker,
            // so both must hear it ended
            if (r.reply() instanceof RouterActor.Routed late) {
                for (ChoiceProgress p : progress) late.worker().tell(new WorkerActor.Cancel(p.attemptId()));
                router.tell(new RouterActor.Release(spec.requestId()));
            }
            return this;
        }
        timers.cancel(RouteTimeout.INSTANCE);
        if (r.reply() instanceof RouterActor.NoWorkers nw) {
            return fail(503, migrations == 0 ? nw.reason() : "its worker was lost and " + nw.reason());
        }
        routed = true;
        // the router already sent the worker our Generate messages
        worker = ((RouterActor.Routed) r.reply()).worker();
        getContext().watchWith(worker, WorkerGone.INSTANCE);
        if (migrations > 0) {
            // a choice a stop string ended while the request moved was started again: stop it
            for (int i = 0; i < ended.length; i++) {
                if (ended[i]) worker.tell(new WorkerActor.Cancel(progress[i].attemptId()));
            }
        }
        return this;
    }

    /**
     * The worker is lost: the unfinished choices continue elsewhere from where they are, or the request fails once it
     * has moved {@code migrationLimit} times. {@code mayStillRun}: the worker is unreachable rather than stopped, so it
     * may still be generating; it is told to stop, its output is not wanted.
     */
    private Behavior<Command> migrate(String why, boolean mayStillRun) {
        if (terminalSent || released || worker == null) return this;
        ActorRef<WorkerActor.Command> lost = worker;
        getContext().unwatch(lost);
        worker = null;
        routed = false;
        router.tell(new RouterActor.Release(spec.requestId()));
        if (migrations >= routing.migrationLimit()) {
            for (int i = 0; i < ended.length && mayStillRun; i++) {
                if (!ended[i]) lost.tell(new WorkerActor.Cancel(progress[i].attemptId()));
            }
            return fail(503, "the request failed: " + why + " and it already moved " + migrations
                    + " time(s) (migration limit " + routing.migrationLimit() + ")");
        }
        migrations++;
        List<WorkerActor.Generate> start = new ArrayList<>(ended.length);
        int[] routePrompt = null;
        int generated = 0;
        for (int i = 0; i < ended.length; i++) {
            if (ended[i]) continue;
            if (mayStillRun) lost.tell(new WorkerActor.Cancel(progress[i].attemptId()));
            int[] done = progress[i].nextAttempt(migrations);
            int[] prompt = Arrays.copyOf(spec.promptTokenIds(), spec.promptTokenIds().length + done.length);
            System.arraycopy(done, 0, prompt, spec.promptTokenIds().length, done.length);
            if (routePrompt == null) routePrompt = prompt;
            generated += done.length;
            start.add(new WorkerActor.Generate(new EngineRequest(progress[i].attemptId(), prompt,
                    remaining(samplingOf(i), done.length), done.length), replies));
        }
        getContext().getLog().info("request {} moves to another worker ({}), {} token(s) generated so far",
                spec.requestId(), why, generated);
        timers.startSingleTimer(RouteTimeout.INSTANCE, routing.routeTimeout());
        router.tell(new RouterActor.Route(spec.requestId(), routePrompt, routeReplies, start, Set.of(lost)));
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
            int index = choiceOfAttempt(out.requestId());
            if (index < 0 || !progress[index].deliver(out, channel)) return;
            if (out.finished() || (first.get() && first.compareAndSet(true, false))) {
                self.tell(new Delivered(index, out.finished(), out.finishReason()));
            }
        };
    }

    /** The choice an engine request id (a choice's own, or one of its attempts after a migration) belongs to. */
    private int choiceOfAttempt(String engineRequestId) {
        int mark = engineRequestId.lastIndexOf("#m");
        return spec.choiceOf(mark < 0 ? engineRequestId : engineRequestId.substring(0, mark));
    }

    /** {@code s} for a choice that continues after {@code done} tokens. */
    private static SamplingParams remaining(SamplingParams s, int done) {
        return s.toBuilder().maxTokens(Math.max(1, s.maxTokens() - done)).minTokens(Math.max(0, s.minTokens() - done))
                .build();
    }

    private SamplingParams samplingOf(int choice) {
        SamplingParams s = spec.sampling();
        if (choice == 0 || s.seed() == null) return s;
        return s.withSeed(s.seed() + choice);
    }

    private Behavior<Command> onWorkerReply(FromWorker m) {
        if (terminalSent) return this;
        int index = choiceOfAttempt(m.reply().requestId());
        // a reply of an attempt that no longer runs (its worker was lost) is not wanted
        if (index < 0 || !progress[index].attemptId().equals(m.reply().requestId())) return this;
        if (m.reply() instanceof WorkerActor.Rejected rej) return fail(400, rej.reason());
        if (m.reply() instanceof WorkerActor.Failed f) return fail(500, f.message());
        RequestOutput out = ((WorkerActor.Output) m.reply()).output();
        if (!progress[index].deliver(out, channel)) return this;
        return onDelivered(index, out.finished(), out.finishReason());
    }

    /** An output of choice {@code index} is in the channel. */
    private Behavior<Command> onDelivered(int index, boolean finished, FinishReason reason) {
        if (terminalSent) return this;
        // a choice cancelled here (stop string) ends with an abort: expected, and already counted
        if (ended[index]) return this;
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
        // while the request moves there is no worker: the new one hears of it once routed
        if (!ended[s.index()] && worker != null) worker.tell(new WorkerActor.Cancel(progress[s.index()].attemptId()));
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
                worker.tell(new WorkerActor.Cancel(progress[i].attemptId()));
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
