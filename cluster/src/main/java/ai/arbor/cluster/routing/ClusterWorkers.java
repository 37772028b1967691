package ai.arbor.cluster.routing;

import ai.arbor.actors.worker.WorkerActor;
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
 * through the Receptionist whose member is Up and reachable, choosing the one with the fewest requests in flight from
 * this frontend.
 *
 * <p>Each request gets a {@link MigratingRequest} child that streams the worker's outputs to the caller and, when the
 * worker's member becomes unreachable or leaves mid-request, re-sends prompt plus the tokens generated so far to another
 * worker (up to the migration limit), so the caller's stream continues.
 */
public final class ClusterWorkers extends AbstractBehavior<ClusterWorkers.Command> {

    public sealed interface Command permits Worker, Internal {}

    /** The worker protocol, as accepted from the local frontend. */
    public record Worker(WorkerActor.Command command) implements Command {}

    sealed interface Internal extends Command {}

    private record Listing(Receptionist.Listing listing) implements Internal {}

    private record MembershipChanged(ClusterEvent.ClusterDomainEvent event) implements Internal {}

    /** From a request child: pick a worker for it, avoiding {@code exclude} (the one that just died). */
    record NeedWorker(ActorRef<MigratingRequest.Command> child, ActorRef<WorkerActor.Command> exclude) implements Internal {}

    record RequestFinished(String requestId, ActorRef<MigratingRequest.Command> child, ActorRef<WorkerActor.Command> worker)
            implements Internal {}

    record Reassigned(ActorRef<WorkerActor.Command> from, ActorRef<WorkerActor.Command> to) implements Internal {}

    /** Adapts to the frontend's {@code ActorRef<WorkerActor.Command>}. */
    public static Behavior<WorkerActor.Command> asWorker(String servedModelName, int migrationLimit, Duration waitForWorker) {
        return Behaviors.setup(ctx -> {
            ActorRef<Command> inner = ctx.spawn(create(servedModelName, migrationLimit, waitForWorker), "workers");
            return Behaviors.receiveMessage(cmd -> {
                inner.tell(new Worker(cmd));
                return Behaviors.same();
            });
        });
    }

    public static Behavior<Command> create(String servedModelName, int migrationLimit, Duration waitForWorker) {
        return Behaviors.setup(ctx -> new ClusterWorkers(ctx, servedModelName, migrationLimit, waitForWorker));
    }

    private final String model;
    private final int migrationLimit;
    private final Duration waitForWorker;
    private final Cluster cluster;
    private Set<ActorRef<WorkerActor.Command>> registered = Set.of();
    private final Map<ActorRef<WorkerActor.Command>, Integer> inFlight = new HashMap<>();
    private final Map<String, ActorRef<MigratingRequest.Command>> requests = new HashMap<>();
    /** Children waiting for a worker to appear. */
    private final List<NeedWorker> waiting = new ArrayList<>();
    private long sequence;

    private ClusterWorkers(ActorContext<Command> ctx, String model, int migrationLimit, Duration waitForWorker) {
        super(ctx);
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
                .onMessage(Listing.class, this::onListing)
                .onMessage(MembershipChanged.class, this::onMembership)
                .onMessage(NeedWorker.class, this::onNeedWorker)
                .onMessage(RequestFinished.class, this::onFinished)
                .onMessage(Reassigned.class, r -> { release(r.from()); acquire(r.to()); return this; })
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
            int running = inFlight.values().stream().mapToInt(Integer::intValue).sum();
            l.replyTo().tell(new WorkerActor.Load("cluster:" + model, running, waiting.size(), 0, 0, 0));
        } else {
            getContext().getLog().warn("ignoring {}", cmd);
        }
        return this;
    }

    @SuppressWarnings("unchecked")
    private Behavior<Command> onListing(Listing l) {
        Set<ActorRef<WorkerActor.Command>> now = new HashSet<>();
        for (Object ref : l.listing().getServiceInstances(WorkerActor.serviceKey(model))) {
            now.add((ActorRef<WorkerActor.Command>) ref);
        }
        for (ActorRef<WorkerActor.Command> gone : registered) {
            if (!now.contains(gone)) notifyLost(gone);
        }
        registered = now;
        getContext().getLog().info("workers for '{}': {}", model, now);
        serveWaiting();
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
        ActorRef<WorkerActor.Command> w = pick(n.exclude());
        if (w == null) {
            waiting.add(n);
        } else {
            acquire(w);
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
        if (f.worker() != null) release(f.worker());
        return this;
    }

    private void acquire(ActorRef<WorkerActor.Command> w) {
        if (w != null) inFlight.merge(w, 1, Integer::sum);
    }

    private void release(ActorRef<WorkerActor.Command> w) {
        if (w != null) inFlight.computeIfPresent(w, (k, v) -> v <= 1 ? null : v - 1);
    }

    /** A registered worker on an Up, reachable member with the fewest of our requests in flight. */
    private ActorRef<WorkerActor.Command> pick(ActorRef<WorkerActor.Command> exclude) {
        Set<Address> usable = usableAddresses();
        return registered.stream()
                .filter(w -> !w.equals(exclude))
                .filter(w -> usable.contains(addressOf(w)))
                .min(Comparator.<ActorRef<WorkerActor.Command>>comparingInt(w -> inFlight.getOrDefault(w, 0))
                        .thenComparing(w -> w.path().toString()))
                .orElse(null);
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
