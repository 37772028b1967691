package ai.arbor.actors.worker;

import ai.arbor.actors.CborSerializable;
import ai.arbor.actors.kvtransfer.KvTransport;
import ai.arbor.actors.kvtransfer.WorkerKvSharing;
import ai.arbor.actors.metrics.WorkerMetrics;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.gpu.engine.EngineLoop;
import ai.arbor.gpu.protocol.ContextLength;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.RequestSink;
import ai.arbor.gpu.sample.Sampler;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
            permits Generate, Embed, Cancel, GetLoad, RequestDone, EmbedDone, RequesterGone, KvHint, GetKvEndpoint {}

    /** Run a request; outputs go to {@code replyTo}, the last one with {@code finished}. */
    public record Generate(EngineRequest request, ActorRef<Reply> replyTo) implements Command {}

    /**
     * Embed {@code inputs} (token ids), pooled as the worker's model declares and normalised; one
     * {@link EmbedReply} goes to {@code replyTo}, unless a {@link Cancel} of its {@code requestId} drops it first (the
     * engine then computes nothing for it if it has not started).
     */
    public record Embed(String requestId, List<int[]> inputs, ActorRef<EmbedReply> replyTo) implements Command {}

    public sealed interface EmbedReply extends CborSerializable permits Embedded, EmbedFailed {
        String requestId();
    }

    /** One vector per input, in order. */
    public record Embedded(String requestId, float[][] vectors) implements EmbedReply {}

    /** The embedding was not computed: {@code why} says whose fault, {@code message} what happened. */
    public record EmbedFailed(String requestId, Why why, String message) implements EmbedReply {
        public enum Why {
            /** The engine or its backend computes no embeddings (the synthetic engine). */
            UNSUPPORTED,
            /** An input the engine cannot take: empty, longer than its context, a token outside the vocabulary. */
            INVALID_INPUT,
            /** The KV cache had no room for the forward pass now; another try may succeed. */
            NO_ROOM,
            /** The forward pass failed. */
            ENGINE_ERROR
        }
    }

    /**
     * Abort a request: it ends with an ABORT output and its blocks are freed; an embedding is dropped without a reply.
     * Unknown ids are ignored.
     */
    public record Cancel(String requestId) implements Command {}

    public record GetLoad(ActorRef<Load> replyTo) implements Command {}

    /**
     * From a router, ahead of the request's {@link Generate}: fetch the prompt's KV from the worker at
     * {@code host:port} before queueing it, by a remote prefill ({@code prefill}) or a pull of the prefix it holds.
     */
    public record KvHint(String requestId, String host, int port, boolean prefill) implements Command {}

    /** Asks where peers reach this worker's KV blocks. */
    public record GetKvEndpoint(ActorRef<KvEndpoint> replyTo) implements Command {}

    /** The worker's block transfer endpoint and mode; {@code port} 0 when it shares no blocks. */
    public record KvEndpoint(String host, int port, String mode) implements CborSerializable {}

    private record RequestDone(String requestId, ActorRef<Reply> replyTo) implements Command {}

    private record RequesterGone(ActorRef<Reply> replyTo) implements Command {}

    private record EmbedDone(String requestId) implements Command {}

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

    /** Where workers in mode {@code prefill} register: they compute prompts for decode workers, never requests. */
    public static ServiceKey<Command> prefillServiceKey(String servedModelName) {
        return ServiceKey.create(Command.class, "arbor-prefill-worker-" + servedModelName);
    }

    /**
     * @param engine owned by the worker from now on: closed when the worker stops
     */
    public static Behavior<Command> create(String workerId, String servedModelName, InferenceEngine engine) {
        return create(workerId, servedModelName, engine, null);
    }

    /** A worker that shares KV blocks with its peers as {@code kv} says (null: it shares none). */
    public static Behavior<Command> create(String workerId, String servedModelName, InferenceEngine engine,
                                           KvSharingConfig kv) {
        return Behaviors.setup(ctx -> new WorkerActor(ctx, workerId, servedModelName, engine, kv));
    }

    /**
     * KV sharing of a worker: its settings, the addresses its transfer listener binds and advertises, and how its
     * transfer connections are made (mutual TLS when the cluster's remoting uses it).
     */
    public record KvSharingConfig(KvSharingSettings settings, String bindHost, String advertiseHost,
                                  KvTransport transport) {
        /** Transfers in the clear. */
        public KvSharingConfig(KvSharingSettings settings, String bindHost, String advertiseHost) {
            this(settings, bindHost, advertiseHost, KvTransport.plain());
        }
    }

    private final String workerId;
    private final InferenceEngine engine;
    private final EngineLoop engineThread;
    /** Live requests of each requester, so one watch per requester suffices and its death aborts them all. */
    private final Map<ActorRef<Reply>, Set<String>> requestsByRequester = new HashMap<>();
    private final Set<String> liveRequests = new HashSet<>();
    /** Embeddings given to the engine and not yet done, so that a {@link Cancel} can drop them. */
    private final Map<String, CompletableFuture<float[][]>> liveEmbeddings = new HashMap<>();
    private final WorkerMetrics metrics;
    private final LocalReplies localReplies;
    private final WorkerKvSharing kvSharing;
    /** Hints that came ahead of their requests; bounded, oldest dropped (a hint whose request never came). */
    private final LinkedHashMap<String, KvHint> hints = new LinkedHashMap<>();
    private static final int MAX_HINTS = 4096;

    private WorkerActor(ActorContext<Command> ctx, String workerId, String servedModelName, InferenceEngine engine,
                        KvSharingConfig kv) {
        super(ctx);
        this.workerId = workerId;
        this.engine = engine;
        this.localReplies = LocalReplies.get(ctx.getSystem());
        this.engineThread = new EngineLoop(engine, "arbor-engine-" + workerId);
        engineThread.start();
        this.kvSharing = kv == null ? null : WorkerKvSharing.start(workerId, engine, engineThread::wakeup, kv.settings(),
                kv.transport(), kv.bindHost(), kv.advertiseHost());
        this.metrics = WorkerMetrics.start(ctx.getSystem(), workerId, servedModelName, engine::stats);
        // a prefill-only worker is not offered for requests; routers that disaggregate find it under its own key
        boolean prefillOnly = kvSharing != null && "prefill".equals(kvSharing.endpoint().mode());
        ctx.getSystem().receptionist().tell(Receptionist.register(
                prefillOnly ? prefillServiceKey(servedModelName) : serviceKey(servedModelName), ctx.getSelf()));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Generate.class, this::onGenerate)
                .onMessage(Embed.class, this::onEmbed)
                .onMessage(Cancel.class, this::onCancel)
                .onMessage(EmbedDone.class, d -> { liveEmbeddings.remove(d.requestId()); return this; })
                .onMessage(KvHint.class, this::onHint)
                .onMessage(GetKvEndpoint.class, g -> {
                    WorkerKvSharing.Endpoint e = kvSharing == null ? null : kvSharing.endpoint();
                    g.replyTo().tell(e == null ? new KvEndpoint("", 0, "both") : new KvEndpoint(e.host(), e.port(), e.mode()));
                    return this;
                })
                .onMessage(GetLoad.class, this::onGetLoad)
                .onMessage(RequestDone.class, this::onDone)
                .onMessage(RequesterGone.class, this::onRequesterGone)
                .onSignal(PostStop.class, s -> {
                    metrics.close();
                    if (kvSharing != null) kvSharing.close();
                    engineThread.close();
                    engine.close();
                    return this;
                })
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
        RequestSink sink = new RequestSink() {
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
        };
        KvHint hint = hintFor(r.requestId());
        if (hint != null && kvSharing != null) {
            kvSharing.fetchThenEnqueue(r.requestId(), r.promptTokenIds(),
                    new java.net.InetSocketAddress(hint.host(), hint.port()), hint.prefill(),
                    () -> engine.addRequest(r, sink), e -> {
                        deliver.accept(new Rejected(r.requestId(), e.getMessage()));
                        self.tell(new RequestDone(r.requestId(), replyTo));
                    });
            return this;
        }
        engine.addRequest(r, sink);
        engineThread.wakeup();
        return this;
    }

    private Behavior<Command> onEmbed(Embed e) {
        CompletableFuture<float[][]> vectors;
        try {
            vectors = engine.embed(e.inputs());
        } catch (IllegalArgumentException ex) {
            e.replyTo().tell(new EmbedFailed(e.requestId(), EmbedFailed.Why.INVALID_INPUT, ex.getMessage()));
            return this;
        }
        liveEmbeddings.put(e.requestId(), vectors);
        ActorRef<Command> self = getContext().getSelf();
        // completes on the engine thread (or at once): telling only enqueues. A cancelled one was dropped: no reply
        vectors.whenComplete((v, t) -> {
            if (!vectors.isCancelled()) e.replyTo().tell(v != null ? new Embedded(e.requestId(), v) : failure(e, t));
            self.tell(new EmbedDone(e.requestId()));
        });
        engineThread.wakeup();
        return this;
    }

    private Behavior<Command> onCancel(Cancel c) {
        CompletableFuture<float[][]> embedding = liveEmbeddings.remove(c.requestId());
        if (embedding != null) {
            embedding.cancel(false);
            return this;
        }
        abort(c.requestId());
        engineThread.wakeup();
        return this;
    }

    private static EmbedFailed failure(Embed e, Throwable t) {
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        EmbedFailed.Why why = cause instanceof UnsupportedOperationException ? EmbedFailed.Why.UNSUPPORTED
                : cause instanceof IllegalArgumentException ? EmbedFailed.Why.INVALID_INPUT
                : cause instanceof IllegalStateException ? EmbedFailed.Why.NO_ROOM
                : EmbedFailed.Why.ENGINE_ERROR;
        // an engine error's type says more than its message (an OutOfMemoryError's is "Java heap space")
        return new EmbedFailed(e.requestId(), why, why == EmbedFailed.Why.ENGINE_ERROR
                ? "the engine failed: " + cause : String.valueOf(cause.getMessage()));
    }

    private Behavior<Command> onHint(KvHint h) {
        if (kvSharing == null) return this;
        hints.put(h.requestId(), h);
        if (hints.size() > MAX_HINTS) hints.remove(hints.keySet().iterator().next());
        return this;
    }

    /** The hint for an engine request: routed under its id, or, for choice {@code i} of n, under the id before "-i". */
    private KvHint hintFor(String engineRequestId) {
        if (hints.isEmpty()) return null;
        KvHint h = hints.remove(engineRequestId);
        if (h != null) return h;
        int dash = engineRequestId.lastIndexOf('-');
        return dash > 0 ? hints.get(engineRequestId.substring(0, dash)) : null;
    }

    private void abort(String requestId) {
        if (kvSharing != null) kvSharing.abort(requestId);
        else engine.abort(requestId);
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
            ids.forEach(this::abort);
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
