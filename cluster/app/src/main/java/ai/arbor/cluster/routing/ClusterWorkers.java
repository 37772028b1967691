package ai.arbor.cluster.routing;

import ai.arbor.actors.router.LeastLoadedSelector;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.WorkerSelector;
import ai.arbor.actors.worker.WorkerActor;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * A frontend's view of the cluster's workers for one model, speaking the worker protocol itself: the HTTP frontend
 * sends it {@link WorkerActor.Generate} as it would to a local worker, and it runs each request on a worker found
 * through the Receptionist whose member is Up and reachable, chosen by the frontend's {@link WorkerSelector} (the
 * router mode: {@code kv}, {@code round-robin}, {@code random}, {@code least-loaded}) from this frontend's requests
 * and prompt tokens in flight on each worker.
 *
 * <p>Each request gets a {@link MigratingRequest} child that streams the worker's outputs to the caller and, when the
 * worker's member becomes unreachable or leaves mid-request, re-sends prompt plus the tokens generated so far to another
 * worker (up to the migration limit), so the caller's stream continues.
 */
public final class ClusterWorkers extends AbstractBehavior<ClusterWorkers.Command> {

    public sealed interface Command permits Worker, Router, Internal {}

    /** The worker protocol, as accepted from the local frontend. */
    public record Worker(WorkerActor.Command command) implements Command {}

    /**
     * The router protocol: the frontend's request actors ask for a worker and are given this actor's worker facade
     * (if any worker is usable, else after waiting, {@code NoWorkers} and a 503); the real choice is made per attempt.
     */
    public record Router(RouterActor.Command command) implements Command {}

    /** The worker facade handed out in {@code Routed} replies. */
    record Facade(ActorRef<WorkerActor.Command> facade) implements Internal {}

    private record ExpireRoutes() implements Internal {}

    sealed interface Internal extends Command {}

    private record Listing(Receptionist.Listing listing) implements Internal {}

    private record MembershipChanged(ClusterEvent.ClusterDomainEvent event) implements Internal {}

    /**
     * From a request child: pick a worker for its attempt {@code attemptId} with prompt {@code tokenIds} (after a
     * migration: the original prompt plus the tokens generated so far), avoiding {@code exclude} (the one that just died).
     */
    record NeedWorker(ActorRef<MigratingRequest.Command> child, String attemptId, int[] tokenIds,
                      ActorRef<WorkerActor.Command> exclude) implements Internal {}

    record RequestFinished(String requestId, ActorRef<MigratingRequest.Command> child) implements Internal {}

    /** The child's current attempt ended without finishing the request (its worker was lost): free its load. */
    record AttemptAbandoned(ActorRef<MigratingRequest.Command> child) implements Internal {}

    /** The refs a cluster frontend uses: {@code router} for its {@code Frontend}; {@code worker} speaks the worker protocol. */
    public record Refs(ActorRef<RouterActor.Command> router, ActorRef<WorkerActor.Command> worker) {}

    /** {@link #start(ActorSystem, String, int, Duration, WorkerSelector)} choosing the least-loaded worker. */
    public static Refs start(ActorSystem<?> system, String servedModelName, int migrationLimit, Duration waitForWorker) {
        return start(system, servedModelName, migrationLimit, waitForWorker, new LeastLoadedSelector());
    }

    /** Starts the actor and its two facades as system actors (frontends spawn them outside any guardian). */
    public static Refs start(ActorSystem<?> system, String servedModelName, int migrationLimit, Duration waitForWorker,
                             WorkerSelector selector) {
        String name = "cluster-workers-" + URLEncoder.encode(servedModelName, StandardCharsets.UTF_8);
        ActorRef<Command> inner = system.systemActorOf(create(servedModelName, migrationLimit, waitForWorker, selector), name, Props.empty());
        ActorRef<WorkerActor.Command> worker = system.systemActorOf(
                Behaviors.receiveMessage(cmd -> { inner.tell(new Worker(cmd)); return Behaviors.same(); }), name + "-worker", Props.empty());
        ActorRef<RouterActor.Command> router = system.systemActorOf(
                Behaviors.receiveMessage(cmd -> { inner.tell(new Router(cmd)); return Behaviors.same(); }), name + "-router", Props.empty());
        inner.tell(new Facade(worker));
        return new Refs(router, worker);
    }

    public static Behavior<Command> create(String servedModelName, int migrationLimit, Duration waitForWorker,
                                           WorkerSelector selector) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(new ExpireRoutes(), Duration.ofMillis(200));
            return new ClusterWorkers(ctx, servedModelName, migrationLimit, waitForWorker, selector);
        }));
    }

    private ActorRef<WorkerActor.Command> facade;
    private final List<RouteWaiting> routesWaiting = new ArrayList<>();

    private record RouteWaiting(RouterActor.Route route, long deadlineNanos) {}

    private final String model;
    private final int migrationLimit;
    private final Duration waitForWorker;
    private final Cluster cluster;
    private final WorkerSelector selector;
    private Set<ActorRef<WorkerActor.Command>> registered = Set.of();
    /** Per worker: this frontend's attempts running there and their prompt tokens. */
    private final Map<ActorRef<WorkerActor.Command>, long[]> inFlight = new HashMap<>();
    /** Each child's current attempt, so its load is released exactly once. */
    private final Map<ActorRef<MigratingRequest.Command>, Attempt> attempts = new HashMap<>();
    private final Map<String, ActorRef<MigratingRequest.Command>> requests = new HashMap<>();
    /** Children waiting for a worker to appear. */
    private final List<NeedWorker> waiting = new ArrayList<>();
    private long sequence;

    private record Attempt(String attemptId, ActorRef<WorkerActor.Command> worker, int tokens) {}

    private ClusterWorkers(ActorContext<Command> ctx, String model, int migrationLimit, Duration waitForWorker,
                           WorkerSelector selector) {
        super(ctx);
        this.selector = selector;
        this.model = model;
        this.migrationLimit = migrationLimit;
        this.waitForWorker = waitForWorker;
        this.cluster = Cluster.get(ctx.getSystem());
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(WorkerActor.serviceKey(model),
                ctx.messageAdapter(Receptionist.Listing.class, Listing::new)));
        cluster.subscriptions().tell(Subscribe.create(
                ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, MembershipChanged::new), ClusterEvent.ReachabilityEvent.class));
        cluster.subscriptions().tell(Subscribe.create(
                ctx.messageAdapter(ClusterEvent.MemberEvent.class, MembershipChanged::new), ClusterEvent.MemberEvent.class));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Worker.class, this::onWorkerCommand)
                .onMessage(Router.class, this::onRouterCommand)
                .onMessage(Facade.class, f -> { facade = f.facade(); return this; })
                .onMessage(ExpireRoutes.class, e -> { answerRoutes(); return this; })
                .onMessage(Listing.class, this::onListing)
                .onMessage(MembershipChanged.class, this::onMembership)
                .onMessage(NeedWorker.class, this::onNeedWorker)
                .onMessage(RequestFinished.class, this::onFinished)
                .onMessage(AttemptAbandoned.class, a -> { release(a.child()); return this; })
                .build();
    }

    private Behavior<Command> onWorkerCommand(Worker w) {
        WorkerActor.Command cmd = w.command();
        if (cmd instanceof WorkerActor.Generate g) {
            String id = g.request().requestId();
            if (requests.containsKey(id)) {
                g.replyTo().tell(new WorkerActor.Rejected(id, "request id " + id + " is already running"));
            } else {
                requests.put(id, getContext().spawn(
                        MigratingRequest.create(g.request(), g.replyTo(), getContext().getSelf(), migrationLimit, waitForWorker),
                        "req-" + (sequence++)));
            }
        } else if (cmd instanceof WorkerActor.Cancel c) {
            ActorRef<MigratingRequest.Command> child = requests.get(c.requestId());
            if (child != null) child.tell(new MigratingRequest.Cancel());
        } else if (cmd instanceof WorkerActor.GetLoad l) {
            int running = attempts.size();
            l.replyTo().tell(new WorkerActor.Load("cluster:" + model, running, waiting.size(), 0, 0, 0));
        } else {
            getContext().getLog().warn("ignoring {}", cmd);
        }
        return this;
    }

    private Behavior<Command> onRouterCommand(Router r) {
        RouterActor.Command cmd = r.command();
        if (cmd instanceof RouterActor.Route route) {
            routesWaiting.add(new RouteWaiting(route, System.nanoTime() + waitForWorker.toNanos()));
            answerRoutes();
        } else if (cmd instanceof RouterActor.GetStatus g) {
            g.replyTo().tell(new RouterActor.Status(model, usableWorkers(), requests.size()));
        }
        // Release: in-flight accounting happens per attempt, in RequestFinished
        return this;
    }

    /** Routes wait until some worker is usable (then they get the facade) or their deadline passes (then 503). */
    private void answerRoutes() {
        if (routesWaiting.isEmpty()) return;
        boolean any = usableWorkers() > 0;
        long now = System.nanoTime();
        routesWaiting.removeIf(w -> {
            if (any && facade != null) {
                // the requester's Generate messages came with the route: start them here, as the facade would
                w.route().start().forEach(g -> onWorkerCommand(new Worker(g)));
                w.route().replyTo().tell(new RouterActor.Routed(w.route().requestId(), facade));
                return true;
            }
            if (w.deadlineNanos() - now <= 0) {
                w.route().replyTo().tell(new RouterActor.NoWorkers(w.route().requestId(),
                        "no worker serving model '" + model + "' is available"));
                return true;
            }
            return false;
        });
    }

    private int usableWorkers() {
        Set<Address> usable = usableAddresses();
        return (int) registered.stream().filter(w -> usable.contains(addressOf(w))).count();
    }

    @SuppressWarnings("unchecked")
    private Behavior<Command> onListing(Listing l) {
        Set<ActorRef<WorkerActor.Command>> now = new HashSet<>();
        for (Object ref : l.listing().getServiceInstances(WorkerActor.serviceKey(model))) {
            now.add((ActorRef<WorkerActor.Command>) ref);
        }
        // A worker leaving the listing is not lost: a draining worker deregisters first and still finishes what it
        // runs. Only unreachability, leaving the cluster or the actor stopping moves its requests elsewhere.
        registered = now;
        selector.onWorkersChanged(Set.copyOf(now));
        getContext().getLog().info("workers for '{}': {}", model, now);
        serveWaiting();
        answerRoutes();
        return this;
    }

    private Behavior<Command> onMembership(MembershipChanged m) {
        if (m.event() instanceof ClusterEvent.UnreachableMember u) {
            lostAddress(u.member().address());
        } else if (m.event() instanceof ClusterEvent.MemberRemoved r) {
            lostAddress(r.member().address());
        } else if (m.event() instanceof ClusterEvent.MemberExited e) {
            lostAddress(e.member().address());
        }
        serveWaiting();
        answerRoutes();
        return this;
    }

    private void lostAddress(Address address) {
        for (ActorRef<WorkerActor.Command> w : registered) {
            if (addressOf(w).equals(address)) notifyLost(w);
        }
    }

    private void notifyLost(ActorRef<WorkerActor.Command> worker) {
        for (ActorRef<MigratingRequest.Command> child : requests.values()) child.tell(new MigratingRequest.WorkerLost(worker));
    }

    private Behavior<Command> onNeedWorker(NeedWorker n) {
        WorkerSelector.RoutingRequest request = new WorkerSelector.RoutingRequest(n.attemptId(), n.tokenIds());
        ActorRef<WorkerActor.Command> w = pick(request, n.exclude());
        if (w == null) {
            waiting.add(n);
        } else {
            acquire(n.child(), request, w);
            n.child().tell(new MigratingRequest.Assigned(w));
        }
        return this;
    }

    private void serveWaiting() {
        if (waiting.isEmpty()) return;
        List<NeedWorker> pending = new ArrayList<>(waiting);
        waiting.clear();
        for (NeedWorker n : pending) onNeedWorker(n);
    }

    private Behavior<Command> onFinished(RequestFinished f) {
        requests.remove(f.requestId());
        waiting.removeIf(n -> n.child().equals(f.child()));
        release(f.child());
        return this;
    }

    private void acquire(ActorRef<MigratingRequest.Command> child, WorkerSelector.RoutingRequest request,
                         ActorRef<WorkerActor.Command> w) {
        release(child);
        int tokens = request.tokenIds().length;
        attempts.put(child, new Attempt(request.requestId(), w, tokens));
        long[] load = inFlight.computeIfAbsent(w, k -> new long[2]);
        load[0]++;
        load[1] += tokens;
        selector.onRouted(request, w);
    }

    private void release(ActorRef<MigratingRequest.Command> child) {
        Attempt a = attempts.remove(child);
        if (a == null) return;
        long[] load = inFlight.get(a.worker());
        if (load != null && --load[0] <= 0) inFlight.remove(a.worker());
        else if (load != null) load[1] -= a.tokens();
        selector.onReleased(a.attemptId(), a.worker());
    }

    /**
     * The selector's choice among the registered workers on Up, reachable members (in a stable order, so round-robin
     * rotates), given this frontend's requests and prompt tokens in flight on each.
     */
    private ActorRef<WorkerActor.Command> pick(WorkerSelector.RoutingRequest request, ActorRef<WorkerActor.Command> exclude) {
        Set<Address> usable = usableAddresses();
        List<WorkerSelector.WorkerLoad> candidates = registered.stream()
                .filter(w -> !w.equals(exclude))
                .filter(w -> usable.contains(addressOf(w)))
                .sorted(Comparator.comparing(w -> w.path().toString()))
                .map(w -> {
                    long[] load = inFlight.getOrDefault(w, new long[2]);
                    return new WorkerSelector.WorkerLoad(w, (int) load[0], load[1]);
                })
                .toList();
        if (candidates.isEmpty()) return null;
        return selector.select(request, candidates);
    }

    private Set<Address> usableAddresses() {
        var state = cluster.state();
        Set<Member> unreachable = new HashSet<>();
        state.getUnreachable().forEach(unreachable::add);
        Set<Address> out = new HashSet<>();
        StreamSupport.stream(state.getMembers().spliterator(), false)
                .filter(m -> m.status() == MemberStatus.up() && !unreachable.contains(m))
                .forEach(m -> out.add(m.address()));
        return out;
    }

    private Address addressOf(ActorRef<?> ref) {
        Address a = ref.path().address();
        return a.hasGlobalScope() ? a : cluster.selfMember().address();
    }
}
