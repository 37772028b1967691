package ai.arbor.actors.frontend;

import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.engine.EngineRequest;
import ai.arbor.gpu.engine.FinishReason;
import ai.arbor.gpu.engine.RequestOutput;
import ai.arbor.gpu.sample.SamplingParams;
import ai.arbor.gpu.tokenizer.StopStringMatcher;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.DeadLetterSuppression;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The frontend's actor for one API request: asks the router for a worker, starts the request's choices there,
 * turns the token ids that come back into text (incremental detokenizing, stop strings) and hands the events to the
 * HTTP response's stream through an {@link EventChannel}, which takes them on demand. The engine is never slowed by a
 * slow client; text waits in the channel instead.
 *
 * <p>If the stream goes away (the client disconnected) the actor cancels its requests at the worker, which frees
 * their KV blocks, and tells the router they are done.
 */
public final class RequestActor extends AbstractBehavior<RequestActor.Command> {

    /** Local to the frontend's JVM, unlike the worker and router protocols. */
    public sealed interface Command extends NoSerializationVerificationNeeded permits StreamReady, RouteResult, RouteTimeout, FromWorker, StreamGone, WorkerGone, NoStream {}

    /**
     * The response stream started and takes the events from the channel. Sent by the stream, which may outlive the
     * actor (after the end, or after the actor gave up): no dead-letter noise then.
     */
    enum StreamReady implements Command, DeadLetterSuppression { INSTANCE }

    private record RouteResult(RouterActor.RouteReply reply) implements Command {}

    private enum RouteTimeout implements Command { INSTANCE }

    private record FromWorker(WorkerActor.Reply reply) implements Command {}

    /** The stream stopped before its last event: the client went away. */
    enum StreamGone implements Command, DeadLetterSuppression { INSTANCE }

    private enum WorkerGone implements Command { INSTANCE }

    private enum NoStream implements Command { INSTANCE }

    /**
     * How long the first event waits for its stream before the request is given up. The HTTP layer runs the stream
     * as soon as it sent the headers, unless the client left meanwhile (like Pekko's subscription timeout).
     */
    static final Duration NO_STREAM_TIMEOUT = Duration.ofSeconds(5);

    static Behavior<Command> create(GenerationSpec spec, ModelTokenizer tokenizer,
                                    ActorRef<RouterActor.Command> router, Duration routeTimeout,
                                    Duration noStreamTimeout, EventChannel channel,
                                    CompletableFuture<Void> firstEvent, CompletableFuture<Void> unclaimed) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RequestActor(ctx, timers, spec, tokenizer,
                router, routeTimeout, noStreamTimeout, channel, firstEvent, unclaimed)));
    }

    private static final class Choice {
        final String engineRequestId;
        final TextDecoder decoder;
        final StopStringMatcher stops;
        boolean finished;
        int outputTokens;

        Choice(String engineRequestId, TextDecoder decoder, StopStringMatcher stops) {
            this.engineRequestId = engineRequestId;
            this.decoder = decoder;
            this.stops = stops;
        }
    }

    private final GenerationSpec spec;
    private final ActorRef<RouterActor.Command> router;
    private final TimerScheduler<Command> timers;
    private final Choice[] choices;
    private final Map<String, Integer> choiceByEngineId = new HashMap<>();
    private final EventChannel channel;
    private final Duration noStreamTimeout;
    private final CompletableFuture<Void> firstEvent;
    private final CompletableFuture<Void> unclaimed;
    private boolean streamStarted;
    private boolean terminalSent;
    private ActorRef<WorkerActor.Command> worker;
    private boolean routed;
    private boolean released;
    private int unfinished;
    private int promptTokens;
    private int cachedTokens = -1;

    private RequestActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, GenerationSpec spec,
                         ModelTokenizer tokenizer, ActorRef<RouterActor.Command> router, Duration routeTimeout,
                         Duration noStreamTimeout, EventChannel channel, CompletableFuture<Void> firstEvent,
                         CompletableFuture<Void> unclaimed) {
        super(ctx);
        this.spec = spec;
        this.noStreamTimeout = noStreamTimeout;
        this.channel = channel;
        this.firstEvent = firstEvent;
        this.unclaimed = unclaimed;
        this.router = router;
        this.timers = timers;
        this.promptTokens = spec.promptTokenIds().length;
        this.choices = new Choice[spec.n()];
        for (int i = 0; i < spec.n(); i++) {
            String id = spec.n() == 1 ? spec.requestId() : spec.requestId() + "-" + i;
            choices[i] = new Choice(id, tokenizer.newDecoder(spec.promptTokenIds()), new StopStringMatcher(spec.stop()));
            choiceByEngineId.put(id, i);
        }
        this.unfinished = spec.n();
        // a message adapter and a timer rather than ctx.ask: the javadsl ask completes through a Scala future's
        // CompletionStage, which runs its callback on the common pool (a new thread per request on two cores)
        timers.startSingleTimer(RouteTimeout.INSTANCE, routeTimeout);
        router.tell(new RouterActor.Route(spec.requestId(), spec.promptTokenIds(),
                ctx.messageAdapter(RouterActor.RouteReply.class, RouteResult::new)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StreamReady.class, r -> onStreamReady())
                .onMessage(RouteResult.class, this::onRouted)
                .onMessage(RouteTimeout.class, t -> routed || terminalSent || released ? this
                        : fail(503, "no worker answered for this model in time"))
                .onMessage(FromWorker.class, this::onWorkerReply)
                .onMessage(StreamGone.class, g -> abandon())
                .onMessage(WorkerGone.class, g -> fail(503, "the worker serving this request stopped"))
                .onMessage(NoStream.class, g -> streamStarted ? this : unclaimed())
                .build();
    }

    private Behavior<Command> onStreamReady() {
        streamStarted = true;
        timers.cancel(NoStream.INSTANCE);
        // the stream takes the rest from the channel on its own
        return terminalSent ? Behaviors.stopped() : this;
    }

    private Behavior<Command> onRouted(RouteResult r) {
        if (terminalSent || released) {
            // too late (timed out, or the client left): the router counted the request, so it must hear it ended
            if (r.reply() instanceof RouterActor.Routed) router.tell(new RouterActor.Release(spec.requestId()));
            return this;
        }
        timers.cancel(RouteTimeout.INSTANCE);
        if (r.reply() instanceof RouterActor.NoWorkers nw) return fail(503, nw.reason());
        routed = true;
        worker = ((RouterActor.Routed) r.reply()).worker();
        getContext().watchWith(worker, WorkerGone.INSTANCE);
        ActorRef<WorkerActor.Reply> replies = getContext().messageAdapter(WorkerActor.Reply.class, FromWorker::new);
        for (int i = 0; i < choices.length; i++) {
            worker.tell(new WorkerActor.Generate(new EngineRequest(choices[i].engineRequestId, spec.promptTokenIds(),
                    samplingOf(i)), replies));
        }
        return this;
    }

    private SamplingParams samplingOf(int choice) {
        SamplingParams s = spec.sampling();
        if (choice == 0 || s.seed() == null) return s;
        return new SamplingParams(s.temperature(), s.topP(), s.topK(), s.minP(), s.seed() + choice, s.presencePenalty(),
                s.frequencyPenalty(), s.repetitionPenalty(), s.maxTokens(), s.minTokens(), s.ignoreEos(),
                s.stopTokenIds(), s.stop(), s.logprobs());
    }

    private Behavior<Command> onWorkerReply(FromWorker m) {
        if (terminalSent) return this;
        if (m.reply() instanceof WorkerActor.Rejected rej) return fail(400, rej.reason());
        if (m.reply() instanceof WorkerActor.Failed f) return fail(500, f.message());
        RequestOutput out = ((WorkerActor.Output) m.reply()).output();
        Integer index = choiceByEngineId.get(out.requestId());
        if (index == null) return this;
        Choice c = choices[index];
        if (c.finished) return this;
        if (index == 0 && cachedTokens < 0) cachedTokens = out.cachedTokens();
        promptTokens = out.promptTokens() > 0 ? out.promptTokens() : promptTokens;
        StringBuilder text = new StringBuilder();
        for (int id : out.newTokenIds()) text.append(c.decoder.next(id));
        c.outputTokens += out.newTokenIds().length;
        if (out.finished()) text.append(c.decoder.flush());
        StopStringMatcher.Result pushed = c.stops.push(text.toString());
        String safe = pushed.text();
        FinishReason reason = null;
        if (pushed.stopped()) {
            reason = FinishReason.STOP;
            if (!out.finished()) worker.tell(new WorkerActor.Cancel(c.engineRequestId));
        } else if (out.finished()) {
            if (out.finishReason() == FinishReason.ABORT) return fail(503, "the worker aborted the request");
            safe = safe + c.stops.flush();
            reason = out.finishReason();
        }
        if (!safe.isEmpty() || (out.logprobs() != null && !out.logprobs().isEmpty())) {
            emit(new GenerationEvent.Delta(index, safe, out.newTokenIds(), out.logprobs()));
        }
        if (reason != null) {
            c.finished = true;
            emit(new GenerationEvent.Finished(index, reason));
            if (--unfinished == 0) {
                int completion = 0;
                for (Choice ch : choices) completion += ch.outputTokens;
                emit(new GenerationEvent.Usage(promptTokens, completion, Math.max(cachedTokens, 0)));
                release();
                return end(EventChannel.COMPLETE);
            }
        }
        return this;
    }

    /** Hands an event to the stream; the first one also tells the caller that the response can start. */
    private void emit(Object element) {
        channel.offer(element);
        if (firstEvent.isDone()) return;
        if (element instanceof GenerationEvent.Failure f) firstEvent.completeExceptionally(f);
        else firstEvent.complete(null);
        // the stream has a while to come for the events
        if (!streamStarted) timers.startSingleTimer(NoStream.INSTANCE, noStreamTimeout);
    }

    /** The last element: the actor is done once the stream has started (it takes the rest on its own). */
    private Behavior<Command> end(Object terminal) {
        emit(terminal);
        terminalSent = true;
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

    private Behavior<Command> fail(int status, String message) {
        cancelUnfinished();
        release();
        return end(new GenerationEvent.Failure(status, message));
    }

    /** The client went away: stop generating and free everything. */
    private Behavior<Command> abandon() {
        cancelUnfinished();
        release();
        return Behaviors.stopped();
    }

    private void cancelUnfinished() {
        if (worker == null) return;
        for (Choice c : choices) {
            if (!c.finished) {
                c.finished = true;
                worker.tell(new WorkerActor.Cancel(c.engineRequestId));
            }
        }
    }

    private void release() {
        if (released) return;
        released = true;
        if (routed) router.tell(new RouterActor.Release(spec.requestId()));
    }
}
