package ai.arbor.actors.worker;

import ai.arbor.actors.CborSerializable;
import ai.arbor.actors.metrics.WorkerMetrics;
import ai.arbor.gpu.protocol.ContextLength;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.engine.EngineLoop;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.sample.Sampler;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A worker: owns one engine and the thread that steps it. Requests arrive as {@link Generate} messages; every output
 * goes back to the request's {@code replyTo} as a message (never a callback), so a frontend on another node works the
 * same. The worker watches each requester and aborts its requests when it dies, which frees their KV blocks.
 *
 * <p>It registers itself with the Receptionist under {@link #serviceKey(String)} once started, which is how routers
 * find it, locally or across a cluster.
 */
public final class WorkerActor extends AbstractBehavior<WorkerActor.Command> {

    public sealed interface Command extends CborSerializable
            permits Generate, Cancel, GetLoad, RequestDone, RequesterGone {}

    /** Run a request; outputs go to {@code replyTo}, the last one with {@code finished}. */
    public record Generate(EngineRequest request, ActorRef<Reply> replyTo) implements Command {}

    /** Abort a request: it ends with an ABORT output and its blocks are freed. Unknown ids are ignored. */
    public record Cancel(String requestId) implements Command {}

    public record GetLoad(ActorRef<Load> replyTo) implements Command {}

    private record RequestDone(String requestId, ActorRef<Reply> replyTo) implements Command {}

    private record RequesterGone(ActorRef<Reply> replyTo) implements Command {}

    public sealed interface Reply extends CborSerializable permits Output, Rejected, Failed {
        String requestId();
    }

    public record Output(RequestOutput output) implements Reply {
        @Override
        public String requestId() { return output.requestId(); }
    }

    /** The request never started: {@code reason} says why (too long for this engine, duplicate id). */
    public record Rejected(String requestId, String reason) implements Reply {}

    /** The engine failed while running the request (a forward pass threw); nothing more follows. */
    public record Failed(String requestId, String message) implements Reply {}

    public record Load(String workerId, int runningRequests, int waitingRequests, int kvBlocksActive, int kvBlocksTotal,
                       int maxModelLen) implements CborSerializable {}

    public static ServiceKey<Command> serviceKey(String servedModelName) {
        return ServiceKey.create(Command.class, "arbor-worker-" + servedModelName);
    }

    /**
     * @param engine owned by the worker from now on: closed when the worker stops
     */
    public static Behavior<Command> create(String workerId, String servedModelName, InferenceEngine engine) {
        return Behaviors.setup(ctx -> new WorkerActor(ctx, workerId, servedModelName, engine));
    }

    private final String workerId;
    private final InferenceEngine engine;
    private final EngineLoop engineThread;
    /** Live requests of each requester, so one watch per requester suffices and its death aborts them all. */
    private final Map<ActorRef<Reply>, Set<String>> requestsByRequester = new HashMap<>();
    private final Set<String> liveRequests = new HashSet<>();
    private final WorkerMetrics metrics;
    private final LocalReplies localReplies;

    private WorkerActor(ActorContext<Command> ctx, String workerId, String servedModelName, InferenceEngine engine) {
        super(ctx);
        this.workerId = workerId;
        this.engine = engine;
        this.localReplies = LocalReplies.get(ctx.getSystem());
        this.engineThread = new EngineLoop(engine, "arbor-engine-" + workerId);
        engineThread.start();
        this.metrics = WorkerMetrics.start(ctx.getSystem(), workerId, servedModelName, engine::stats);
        ctx.getSystem().receptionist().tell(Receptionist.register(serviceKey(servedModelName), ctx.getSelf()));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Generate.class, this::onGenerate)
                .onMessage(Cancel.class, c -> { engine.abort(c.requestId()); engineThread.wakeup(); return this; })
                .onMessage(GetLoad.class, this::onGetLoad)
                .onMessage(RequestDone.class, this::onDone)
                .onMessage(RequesterGone.class, this::onRequesterGone)
                .onSignal(PostStop.class, s -> { metrics.close(); engineThread.close(); engine.close(); return this; })
                .build();
    }

    private Behavior<Command> onGenerate(Generate g) {
        EngineRequest r = g.request();
        Optional<String> tooLong = ContextLength.exceeded(r.promptTokenIds().length, r.sampling().maxTokens(),
                engine.maxModelLen());
        if (tooLong.isPresent()) {
            g.replyTo().tell(new Rejected(r.requestId(), tooLong.get()));
            return this;
        }
        try {
            // the same checks the engine makes in addRequest, made here so a bad request is refused, not thrown
            Sampler.validate(r.sampling());
        } catch (IllegalArgumentException e) {
            g.replyTo().tell(new Rejected(r.requestId(), e.getMessage()));
            return this;
        }
        if (!liveRequests.add(r.requestId())) {
            g.replyTo().tell(new Rejected(r.requestId(), "request id " + r.requestId() + " is already running"));
            return this;
        }
        ActorRef<Reply> replyTo = g.replyTo();
        Set<String> ofRequester = requestsByRequester.get(replyTo);
        if (ofRequester == null) {
            ofRequester = new HashSet<>();
            requestsByRequester.put(replyTo, ofRequester);
            getContext().watchWith(replyTo, new RequesterGone(replyTo));
        }
        ofRequester.add(r.requestId());
        ActorRef<Command> self = getContext().getSelf();
        Consumer<Reply> deliver = localReplies.deliveryTo(replyTo);
        // runs on the engine thread: delivering only enqueues, so it never blocks a step
        engine.addRequest(r, new RequestSink() {
            @Override
            public void onOutput(RequestOutput out) {
                deliver.accept(new Output(out));
                if (out.finished()) self.tell(new RequestDone(out.requestId(), replyTo));
            }

            @Override
            public void onError(String requestId, Throwable cause) {
                deliver.accept(new Failed(requestId, "the engine failed: " + cause));
                self.tell(new RequestDone(requestId, replyTo));
            }
        });
        engineThread.wakeup();
        return this;
    }

    private Behavior<Command> onDone(RequestDone d) {
        liveRequests.remove(d.requestId());
        Set<String> ofRequester = requestsByRequester.get(d.replyTo());
        if (ofRequester != null && ofRequester.remove(d.requestId()) && ofRequester.isEmpty()) {
            requestsByRequester.remove(d.replyTo());
            getContext().unwatch(d.replyTo());
        }
        return this;
    }

    private Behavior<Command> onRequesterGone(RequesterGone g) {
        Set<String> ids = requestsByRequester.remove(g.replyTo());
        if (ids != null) {
            ids.forEach(engine::abort);
            engineThread.wakeup();
        }
        return this;
    }

    private Behavior<Command> onGetLoad(GetLoad g) {
        EngineStats s = engine.stats();
        g.replyTo().tell(new Load(workerId, s.runningRequests(), s.waitingRequests(), s.kvBlocksActive(),
                s.kvBlocksTotal(), engine.maxModelLen()));
        return this;
    }
}
