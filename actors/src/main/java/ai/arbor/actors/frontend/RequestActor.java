package ai.arbor.actors.frontend;

import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.engine.EngineRequest;
import ai.arbor.gpu.engine.FinishReason;
import ai.arbor.gpu.engine.RequestOutput;
import ai.arbor.gpu.sample.SamplingParams;
import ai.arbor.gpu.tokenizer.StopStringMatcher;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The frontend's actor for one API request: asks the router for a worker, starts the request's choices there,
 * turns the token ids that come back into text (incremental detokenizing, stop strings) and feeds the HTTP response's
 * stream one element per acknowledgement. The engine is never slowed by a slow client; text waits here instead.
 *
 * <p>If the stream goes away (the client disconnected) the actor cancels its requests at the worker, which frees
 * their KV blocks, and tells the router they are done.
 */
public final class RequestActor extends AbstractBehavior<RequestActor.Command> {

    /** Local to the frontend's JVM, unlike the worker and router protocols. */
    public sealed interface Command extends NoSerializationVerificationNeeded permits StreamReady, Ack, RouteResult, FromWorker, StreamGone, WorkerGone, NoStream {}

    /** The response stream was materialized: elements go to {@code stream} (a classic stage actor). */
    public record StreamReady(org.apache.pekko.actor.ActorRef stream) implements Command {}

    /** The stream took the last element and wants the next. */
    public enum Ack implements Command { INSTANCE }

    private record RouteResult(RouterActor.RouteReply reply, Throwable error) implements Command {}

    private record FromWorker(WorkerActor.Reply reply) implements Command {}

    private enum StreamGone implements Command { INSTANCE }

    private enum WorkerGone implements Command { INSTANCE }

    private enum NoStream implements Command { INSTANCE }

    /** Stream control elements, matched by the source's completion and failure matchers. */
    enum Complete implements NoSerializationVerificationNeeded { INSTANCE }

    static final Object COMPLETE = Complete.INSTANCE;

    record Fail(GenerationEvent.Failure failure) implements NoSerializationVerificationNeeded {}

    /**
     * How long the first event waits for its stream before the request is given up. The HTTP layer runs the stream
     * as soon as it sent the headers, unless the client left meanwhile (like Pekko's subscription timeout).
     */
    static final Duration NO_STREAM_TIMEOUT = Duration.ofSeconds(5);

    static Behavior<Command> create(GenerationSpec spec, ModelTokenizer tokenizer,
                                    ActorRef<RouterActor.Command> router, Duration routeTimeout,
                                    CompletableFuture<Void> firstEvent, CompletableFuture<Void> unclaimed) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RequestActor(ctx, timers, spec, tokenizer,
                router, routeTimeout, firstEvent, unclaimed)));
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
    private final ArrayDeque<Object> outbox = new ArrayDeque<>();
    private final org.apache.pekko.actor.ActorRef classicSelf;
    private final CompletableFuture<Void> firstEvent;
    private final CompletableFuture<Void> unclaimed;
    private org.apache.pekko.actor.ActorRef stream;
    private boolean awaitingAck;
    private boolean terminalSent;
    private ActorRef<WorkerActor.Command> worker;
    private boolean routed;
    private boolean released;
    private int unfinished;
    private int promptTokens;
    private int cachedTokens = -1;

    private RequestActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, GenerationSpec spec,
                         ModelTokenizer tokenizer, ActorRef<RouterActor.Command> router, Duration routeTimeout,
                         CompletableFuture<Void> firstEvent, CompletableFuture<Void> unclaimed) {
        super(ctx);
        this.spec = spec;
        this.firstEvent = firstEvent;
        this.unclaimed = unclaimed;
        this.router = router;
        this.timers = timers;
        this.classicSelf = Adapter.toClassic(ctx.getSelf());
        this.promptTokens = spec.promptTokenIds().length;
        this.choices = new Choice[spec.n()];
        for (int i = 0; i < spec.n(); i++) {
            String id = spec.n() == 1 ? spec.requestId() : spec.requestId() + "-" + i;
            choices[i] = new Choice(id, tokenizer.newDecoder(spec.promptTokenIds()), new StopStringMatcher(spec.stop()));
            choiceByEngineId.put(id, i);
        }
        this.unfinished = spec.n();
        ctx.ask(RouterActor.RouteReply.class, router, routeTimeout,
                replyTo -> new RouterActor.Route(spec.requestId(), spec.promptTokenIds(), replyTo),
                RouteResult::new);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StreamReady.class, this::onStreamReady)
                .onMessage(Ack.class, a -> { awaitingAck = false; return pump(); })
                .onMessage(RouteResult.class, this::onRouted)
                .onMessage(FromWorker.class, this::onWorkerReply)
                .onMessage(StreamGone.class, g -> abandon())
                .onMessage(WorkerGone.class, g -> fail(503, "the worker serving this request stopped"))
                .onMessage(NoStream.class, g -> stream == null ? unclaimed() : this)
                .build();
    }

    private Behavior<Command> onStreamReady(StreamReady r) {
        stream = r.stream();
        timers.cancel(NoStream.INSTANCE);
        getContext().watchWith(Adapter.toTyped(stream), StreamGone.INSTANCE);
        return pump();
    }

    private Behavior<Command> onRouted(RouteResult r) {
        if (terminalSent || released) return this;
        if (r.error() != null) return fail(503, "no worker answered for this model in time");
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
            outbox.add(new GenerationEvent.Delta(index, safe, out.newTokenIds(), out.logprobs()));
        }
        if (reason != null) {
            c.finished = true;
            outbox.add(new GenerationEvent.Finished(index, reason));
            if (--unfinished == 0) {
                int completion = 0;
                for (Choice ch : choices) completion += ch.outputTokens;
                outbox.add(new GenerationEvent.Usage(promptTokens, completion, Math.max(cachedTokens, 0)));
                outbox.add(COMPLETE);
                release();
            }
        }
        return pump();
    }

    /** Sends queued elements while the stream has demand; stops the actor after the terminal element. */
    private Behavior<Command> pump() {
        if (!firstEvent.isDone() && !outbox.isEmpty()) signalFirstEvent();
        while (stream != null && !awaitingAck && !outbox.isEmpty()) {
            Object e = coalesce(outbox.poll());
            stream.tell(e, classicSelf);
            if (e == COMPLETE || e instanceof Fail) {
                terminalSent = true;
                return Behaviors.stopped();
            }
            awaitingAck = true;
        }
        return this;
    }

    /**
     * Merges the deltas of one choice that queued up while the client was slower than the engine into one element, as
     * vLLM's output collector does: fewer, larger chunks instead of a growing backlog.
     */
    private Object coalesce(Object first) {
        if (!(first instanceof GenerationEvent.Delta d) || !(outbox.peek() instanceof GenerationEvent.Delta next)
                || next.index() != d.index()) {
            return first;
        }
        StringBuilder text = new StringBuilder(d.text());
        int[] ids = d.tokenIds();
        java.util.List<ai.arbor.gpu.sample.TokenLogprobs> lps =
                d.logprobs() == null ? null : new java.util.ArrayList<>(d.logprobs());
        while (outbox.peek() instanceof GenerationEvent.Delta n && n.index() == d.index()) {
            outbox.poll();
            text.append(n.text());
            int[] merged = java.util.Arrays.copyOf(ids, ids.length + n.tokenIds().length);
            System.arraycopy(n.tokenIds(), 0, merged, ids.length, n.tokenIds().length);
            ids = merged;
            if (n.logprobs() != null) {
                if (lps == null) lps = new java.util.ArrayList<>();
                lps.addAll(n.logprobs());
            }
        }
        return new GenerationEvent.Delta(d.index(), text.toString(), ids, lps);
    }

    /** Tells the caller the response can start (or must be an error); its stream has a while to come for it. */
    private void signalFirstEvent() {
        if (outbox.peek() instanceof Fail f) firstEvent.completeExceptionally(f.failure());
        else firstEvent.complete(null);
        if (stream == null) timers.startSingleTimer(NoStream.INSTANCE, NO_STREAM_TIMEOUT);
    }

    /** Nobody came for the events (the client left before its response started): give the request up. */
    private Behavior<Command> unclaimed() {
        cancelUnfinished();
        release();
        unclaimed.complete(null);
        return Behaviors.stopped();
    }

    private Behavior<Command> fail(int status, String message) {
        cancelUnfinished();
        release();
        outbox.add(new Fail(new GenerationEvent.Failure(status, message)));
        return pump();
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
