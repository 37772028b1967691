package ai.arbor.actors.router;

import ai.arbor.actors.CborSerializable;
import ai.arbor.actors.metrics.RouterMetrics;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.actors.worker.WorkerActor;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Picks a worker for each request of one model, in every deployment: {@code arbor serve} (workers in this JVM) and a
 * cluster frontend (workers on any node, this one included). It is off the token path: a frontend asks
 * {@link Route}, the router starts the request's choices at the worker it picks, and the requester sends
 * {@link Release} when the request ends, which keeps the per-worker in-flight counts the selectors weigh.
 *
 * <p>Its workers come from a {@link WorkerListing} child: the Receptionist's registrations under
 * {@link WorkerActor#serviceKey(String)} (local in one JVM, cluster-wide in a cluster), less those on unreachable
 * members. When a member is lost, each request routed there hears {@link WorkerLost}, so its request actor can move
 * it elsewhere. Requests that arrive while no worker is usable wait up to {@code workerWait}.
 */
public final class RouterActor extends AbstractBehavior<RouterActor.Command> {

    public sealed interface Command extends CborSerializable
            permits Route, RouteEmbedding, Release, GetStatus, WorkersChanged, Expire {}

    /**
     * Pick a worker for a request. {@code start}: the request's {@code Generate} messages, which the router sends to the
     * worker it picks, one hop sooner than the requester could after {@link Routed} (which it still gets, to watch
     * and cancel). {@code avoid}: workers not to pick (one that just failed the request). A route for a request id the
     * router already counts replaces that one (a migration).
     */
    public record Route(String requestId, int[] tokenIds, ActorRef<RouteReply> replyTo,
                        List<WorkerActor.Generate> start, Set<ActorRef<WorkerActor.Command>> avoid) implements Command {
        public Route(String requestId, int[] tokenIds, ActorRef<RouteReply> replyTo) {
            this(requestId, tokenIds, replyTo, List.of(), Set.of());
        }

        public Route(String requestId, int[] tokenIds, ActorRef<RouteReply> replyTo, List<WorkerActor.Generate> start) {
            this(requestId, tokenIds, replyTo, start, Set.of());
        }
    }

    /**
     * Pick a worker for an embedding of {@code tokens} tokens in all and send it {@code start}; otherwise as
     * {@link Route}. The selector sees no prefix to reuse (an embedding's forward passes use no cached blocks) and the
     * load it adds: {@code tokens}, counted until {@link Release}.
     */
    public record RouteEmbedding(String requestId, int tokens, WorkerActor.Embed start, ActorRef<RouteReply> replyTo,
                                 Set<ActorRef<WorkerActor.Command>> avoid) implements Command {}

    public record Release(String requestId) implements Command {}

    public record GetStatus(ActorRef<Status> replyTo) implements Command {}

    /**
     * From the {@link WorkerListing}: {@code usable} are the workers to route to now; {@code lost} those whose member
     * became unreachable or left, whose requests must move. A worker only missing from {@code usable} (it deregistered
     * to drain) still finishes what it runs.
     */
    record WorkersChanged(Set<ActorRef<WorkerActor.Command>> usable, Set<ActorRef<WorkerActor.Command>> lost)
            implements Command {}

    private record Expire() implements Command {}

    public sealed interface RouteReply extends CborSerializable permits Routed, NoWorkers, WorkerLost {}

    public record Routed(String requestId, ActorRef<WorkerActor.Command> worker) implements RouteReply {}

    public record NoWorkers(String requestId, String reason) implements RouteReply {}

    /** The worker a request was routed to is lost (its member is unreachable or left); the router no longer counts it. */
    public record WorkerLost(String requestId, ActorRef<WorkerActor.Command> worker) implements RouteReply {}

    public record Status(String model, int workers, int activeRequests) implements CborSerializable {}

    public static Behavior<Command> create(String servedModelName, WorkerSelector selector, Duration workerWait) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(new Expire(), Duration.ofMillis(200));
            return new RouterActor(ctx, servedModelName, selector, workerWait);
        }));
    }

    private record Active(ActorRef<WorkerActor.Command> worker, int tokens, ActorRef<RouteReply> requester) {}

    /** A request to place, whichever kind: what the selector sees, who hears the outcome, what goes to the worker. */
    private record Placement(WorkerSelector.RoutingRequest request, ActorRef<RouteReply> replyTo,
                             Set<ActorRef<WorkerActor.Command>> avoid, List<? extends WorkerActor.Command> start) {
        static Placement of(Route r) {
            return new Placement(new WorkerSelector.RoutingRequest(r.requestId(), r.tokenIds()), r.replyTo(), r.avoid(),
                    r.start());
        }

        static Placement of(RouteEmbedding r) {
            return new Placement(new WorkerSelector.RoutingRequest(r.requestId(), NO_PREFIX, r.tokens()), r.replyTo(),
                    r.avoid(), List.of(r.start()));
        }

        String requestId() { return request.requestId(); }
    }

    private static final int[] NO_PREFIX = new int[0];

    private record Pending(Placement placement, long deadlineNanos) {}

    private final String model;
    private final WorkerSelector selector;
    private final long workerWaitNanos;
    /** Per usable worker: requests and prompt tokens in flight. Insertion-ordered so that round-robin sees a stable order. */
    private final Map<ActorRef<WorkerActor.Command>, int[]> loads = new LinkedHashMap<>();
    private final Map<String, Active> active = new HashMap<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();

    private RouterActor(ActorContext<Command> ctx, String model, WorkerSelector selector, Duration workerWait) {
        super(ctx);
        this.model = model;
        this.selector = selector;
        this.workerWaitNanos = workerWait.toNanos();
        ctx.spawn(WorkerListing.create(model, ctx.getSelf()), "listing");
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Route.class, r -> place(Placement.of(r)))
                .onMessage(RouteEmbedding.class, r -> place(Placement.of(r)))
                .onMessage(Release.class, r -> { release(r.requestId()); return this; })
                .onMessage(GetStatus.class, g -> {
                    g.replyTo().tell(new Status(model, loads.size(), active.size()));
                    return this;
                })
                .onMessage(WorkersChanged.class, this::onWorkers)
                .onMessage(Expire.class, e -> { expirePending(); return this; })
                .build();
    }

    private Behavior<Command> place(Placement p) {
        // a migration's route: the attempt it replaces no longer counts, wherever it ran
        release(p.requestId());
        if (!tryRoute(p)) pending.add(new Pending(p, System.nanoTime() + workerWaitNanos));
        return this;
    }

    /** Routes {@code p} if some usable worker is not to be avoided; false if it must wait. */
    private boolean tryRoute(Placement p) {
        long t0 = System.nanoTime();
        List<WorkerSelector.WorkerLoad> view = new ArrayList<>(loads.size());
        loads.forEach((ref, load) -> {
            if (!p.avoid().contains(ref)) view.add(new WorkerSelector.WorkerLoad(ref, load[0], load[1]));
        });
        if (view.isEmpty()) return false;
        WorkerSelector.RoutingRequest req = p.request();
        ActorRef<WorkerActor.Command> worker = selector.select(req, view);
        int[] load = loads.get(worker);
        if (load == null) throw new IllegalStateException("selector picked a worker it was not offered: " + worker);
        load[0]++;
        load[1] += req.tokens();
        active.put(req.requestId(), new Active(worker, req.tokens(), p.replyTo()));
        selector.onRouted(req, worker);
        for (WorkerActor.Command c : p.start()) worker.tell(c);
        p.replyTo().tell(new Routed(req.requestId(), worker));
        RouterMetrics.overhead(model, RouterMetrics.STAGE_ROUTE, System.nanoTime() - t0);
        return true;
    }

    private void release(String requestId) {
        Active a = active.remove(requestId);
        if (a == null) return;
        int[] load = loads.get(a.worker());
        if (load != null) {
            load[0]--;
            load[1] -= a.tokens();
        }
        selector.onReleased(requestId, a.worker());
    }

    private Behavior<Command> onWorkers(WorkersChanged l) {
        int before = loads.size();
        // what runs on a worker that left the listing still counts: a draining worker finishes it
        loads.keySet().retainAll(l.usable());
        for (ActorRef<WorkerActor.Command> w : l.usable()) loads.putIfAbsent(w, new int[2]);
        if (!l.lost().isEmpty()) {
            List<String> moved = new ArrayList<>();
            active.forEach((id, a) -> {
                if (l.lost().contains(a.worker())) moved.add(id);
            });
            for (String id : moved) {
                ActorRef<WorkerActor.Command> worker = active.get(id).worker();
                ActorRef<RouteReply> requester = active.get(id).requester();
                release(id);
                requester.tell(new WorkerLost(id, worker));
            }
        }
        selector.onWorkersChanged(Set.copyOf(l.usable()));
        if (loads.size() != before) getContext().getLog().info("model {}: {} worker(s) ready", model, loads.size());
        for (Iterator<Pending> it = pending.iterator(); it.hasNext() && !loads.isEmpty(); ) {
            Pending p = it.next();
            if (p.deadlineNanos() - System.nanoTime() > 0 && tryRoute(p.placement())) it.remove();
        }
        return this;
    }

    private void expirePending() {
        long now = System.nanoTime();
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.deadlineNanos() - now > 0) continue;
            it.remove();
            p.placement().replyTo().tell(new NoWorkers(p.placement().requestId(),
                    "no worker for model '" + model + "' is ready"));
        }
    }
}
