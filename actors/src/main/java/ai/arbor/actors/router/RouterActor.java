package ai.arbor.actors.router;

import ai.arbor.actors.CborSerializable;
import ai.arbor.actors.metrics.RouterMetrics;
import ai.arbor.actors.worker.WorkerActor;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
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
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Picks a worker for each request of one model. It is off the token path: a frontend asks {@link Route}, talks to the
 * chosen worker itself, and sends {@link Release} when the request ends, which keeps the router's in-flight counts.
 *
 * <p>Workers come from a Receptionist subscription to {@link WorkerActor#serviceKey(String)}: in one JVM that is the
 * local receptionist, in a cluster the cluster-wide one, with no change here. Requests that arrive while no worker is
 * up wait up to {@code workerWait}.
 */
public final class RouterActor extends AbstractBehavior<RouterActor.Command> {

    public sealed interface Command extends CborSerializable permits Route, Release, GetStatus, WorkersListed, Expire {}

    /**
     * Pick a worker for a request. {@code start}: the request's {@code Generate} messages, which the router sends to the
     * worker it picks, one hop sooner than the requester could after {@link Routed} (which it still gets, to watch
     * and cancel); empty when the requester starts them itself.
     */
    public record Route(String requestId, int[] tokenIds, ActorRef<RouteReply> replyTo,
                        List<WorkerActor.Generate> start) implements Command {
        public Route(String requestId, int[] tokenIds, ActorRef<RouteReply> replyTo) {
            this(requestId, tokenIds, replyTo, List.of());
        }
    }

    public record Release(String requestId) implements Command {}

    public record GetStatus(ActorRef<Status> replyTo) implements Command {}

    private record WorkersListed(Set<ActorRef<WorkerActor.Command>> workers) implements Command {}

    private record Expire() implements Command {}

    public sealed interface RouteReply extends CborSerializable permits Routed, NoWorkers {}

    public record Routed(String requestId, ActorRef<WorkerActor.Command> worker) implements RouteReply {}

    public record NoWorkers(String requestId, String reason) implements RouteReply {}

    public record Status(String model, int workers, int activeRequests) implements CborSerializable {}

    public static Behavior<Command> create(String servedModelName, WorkerSelector selector, Duration workerWait) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(new Expire(), Duration.ofMillis(200));
            return new RouterActor(ctx, servedModelName, selector, workerWait);
        }));
    }

    private record Active(ActorRef<WorkerActor.Command> worker, int tokens) {}

    private record Pending(Route route, long deadlineNanos) {}

    private final String model;
    private final WorkerSelector selector;
    private final long workerWaitNanos;
    /** Insertion-ordered so that round-robin sees a stable order. */
    private final Map<ActorRef<WorkerActor.Command>, int[]> loads = new LinkedHashMap<>();
    private final Map<String, Active> active = new HashMap<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();

    private RouterActor(ActorContext<Command> ctx, String model, WorkerSelector selector, Duration workerWait) {
        super(ctx);
        this.model = model;
        this.selector = selector;
        this.workerWaitNanos = workerWait.toNanos();
        ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class,
                l -> new WorkersListed(l.getServiceInstances(WorkerActor.serviceKey(model))));
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(WorkerActor.serviceKey(model), adapter));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Route.class, this::onRoute)
                .onMessage(Release.class, this::onRelease)
                .onMessage(GetStatus.class, g -> {
                    g.replyTo().tell(new Status(model, loads.size(), active.size()));
                    return this;
                })
                .onMessage(WorkersListed.class, this::onWorkers)
                .onMessage(Expire.class, e -> { expirePending(); return this; })
                .build();
    }

    private Behavior<Command> onRoute(Route r) {
        if (loads.isEmpty()) {
            pending.add(new Pending(r, System.nanoTime() + workerWaitNanos));
        } else {
            route(r);
        }
        return this;
    }

    private void route(Route r) {
        long t0 = System.nanoTime();
        List<WorkerSelector.WorkerLoad> view = new ArrayList<>(loads.size());
        loads.forEach((ref, load) -> view.add(new WorkerSelector.WorkerLoad(ref, load[0], load[1])));
        WorkerSelector.RoutingRequest req = new WorkerSelector.RoutingRequest(r.requestId(), r.tokenIds());
        ActorRef<WorkerActor.Command> worker = selector.select(req, view);
        int[] load = loads.get(worker);
        if (load == null) throw new IllegalStateException("selector picked a worker it was not offered: " + worker);
        load[0]++;
        load[1] += r.tokenIds().length;
        active.put(r.requestId(), new Active(worker, r.tokenIds().length));
        selector.onRouted(req, worker);
        for (WorkerActor.Generate g : r.start()) worker.tell(g);
        r.replyTo().tell(new Routed(r.requestId(), worker));
        RouterMetrics.overhead(model, RouterMetrics.STAGE_ROUTE, System.nanoTime() - t0);
    }

    private Behavior<Command> onRelease(Release r) {
        Active a = active.remove(r.requestId());
        if (a != null) {
            int[] load = loads.get(a.worker());
            if (load != null) {
                load[0]--;
                load[1] -= a.tokens();
            }
            selector.onReleased(r.requestId(), a.worker());
        }
        return this;
    }

    private Behavior<Command> onWorkers(WorkersListed l) {
        int before = loads.size();
        loads.keySet().retainAll(l.workers());
        for (ActorRef<WorkerActor.Command> w : l.workers()) loads.putIfAbsent(w, new int[2]);
        active.values().removeIf(a -> !loads.containsKey(a.worker()));
        selector.onWorkersChanged(Set.copyOf(l.workers()));
        if (loads.size() != before || !loads.isEmpty()) {
            getContext().getLog().info("model {}: {} worker(s) ready", model, loads.size());
        }
        while (!loads.isEmpty() && !pending.isEmpty()) {
            Pending p = pending.poll();
            if (p.deadlineNanos() - System.nanoTime() > 0) route(p.route());
        }
        return this;
    }

    private void expirePending() {
        long now = System.nanoTime();
        while (!pending.isEmpty() && pending.peek().deadlineNanos() - now <= 0) {
            Route r = pending.poll().route();
            r.replyTo().tell(new NoWorkers(r.requestId(), "no worker for model '" + model + "' is ready"));
        }
    }
}
