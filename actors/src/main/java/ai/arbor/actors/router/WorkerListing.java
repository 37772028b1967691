package ai.arbor.actors.router;

import ai.arbor.actors.worker.WorkerActor;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterActorRefProvider;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The router's view of which workers it may route to: the Receptionist's registrations for the model, and in a
 * cluster only those on Up, reachable members. Without a cluster (one JVM) every registered worker is usable and none
 * is ever lost this way (a request actor watches its worker). In a cluster a worker whose member becomes unreachable,
 * exits or is removed is reported lost, so the requests on it move before death watch would notice (after downing).
 */
final class WorkerListing extends AbstractBehavior<WorkerListing.Event> {

    sealed interface Event permits Listed, MembershipChanged {}

    private record Listed(Set<ActorRef<WorkerActor.Command>> workers) implements Event {}

    private record MembershipChanged(ClusterEvent.ClusterDomainEvent event) implements Event {}

    static Behavior<Event> create(String model, ActorRef<RouterActor.Command> router) {
        return Behaviors.setup(ctx -> new WorkerListing(ctx, model, router));
    }

    private final ActorRef<RouterActor.Command> router;
    /** Null without a cluster. */
    private final Cluster cluster;
    private Set<ActorRef<WorkerActor.Command>> registered = Set.of();
    /**
     * Members Up and members unreachable, kept from the events themselves: {@code Cluster.state()} is updated by
     * another subscriber and may not show yet what an event just said.
     */
    private final Set<Address> up = new HashSet<>();
    private final Set<Address> unreachable = new HashSet<>();

    private WorkerListing(ActorContext<Event> ctx, String model, ActorRef<RouterActor.Command> router) {
        super(ctx);
        this.router = router;
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(WorkerActor.serviceKey(model),
                ctx.messageAdapter(Receptionist.Listing.class,
                        l -> new Listed(l.getServiceInstances(WorkerActor.serviceKey(model))))));
        boolean clustered = ClusterActorRefProvider.class.getName()
                .equals(Adapter.toClassic(ctx.getSystem()).settings().ProviderClass());
        cluster = clustered ? Cluster.get(ctx.getSystem()) : null;
        if (clustered) {
            cluster.subscriptions().tell(Subscribe.create(ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class,
                    MembershipChanged::new), ClusterEvent.ReachabilityEvent.class));
            cluster.subscriptions().tell(Subscribe.create(ctx.messageAdapter(ClusterEvent.MemberEvent.class,
                    MembershipChanged::new), ClusterEvent.MemberEvent.class));
        }
    }

    @Override
    public Receive<Event> createReceive() {
        return newReceiveBuilder()
                .onMessage(Listed.class, l -> {
                    registered = Set.copyOf(l.workers());
                    tell(Set.of());
                    return this;
                })
                .onMessage(MembershipChanged.class, m -> {
                    track(m.event());
                    tell(lost(m.event()));
                    return this;
                })
                .build();
    }

    private void track(ClusterEvent.ClusterDomainEvent e) {
        if (e instanceof ClusterEvent.MemberUp u) up.add(u.member().address());
        else if (e instanceof ClusterEvent.MemberLeft l) up.remove(l.member().address());
        else if (e instanceof ClusterEvent.MemberExited x) up.remove(x.member().address());
        else if (e instanceof ClusterEvent.MemberDowned d) up.remove(d.member().address());
        else if (e instanceof ClusterEvent.MemberRemoved r) {
            up.remove(r.member().address());
            unreachable.remove(r.member().address());
        } else if (e instanceof ClusterEvent.UnreachableMember u) unreachable.add(u.member().address());
        else if (e instanceof ClusterEvent.ReachableMember r) unreachable.remove(r.member().address());
    }

    private void tell(Set<ActorRef<WorkerActor.Command>> lost) {
        Set<ActorRef<WorkerActor.Command>> usable = new HashSet<>();
        for (ActorRef<WorkerActor.Command> w : registered) {
            Address a = cluster == null ? null : addressOf(w);
            if (a == null || (up.contains(a) && !unreachable.contains(a))) usable.add(w);
        }
        router.tell(new RouterActor.WorkersChanged(usable, lost));
    }

    private Set<ActorRef<WorkerActor.Command>> lost(ClusterEvent.ClusterDomainEvent e) {
        Address gone;
        if (e instanceof ClusterEvent.UnreachableMember u) gone = u.member().address();
        else if (e instanceof ClusterEvent.MemberRemoved r) gone = r.member().address();
        else if (e instanceof ClusterEvent.MemberExited x) gone = x.member().address();
        else return Set.of();
        Set<ActorRef<WorkerActor.Command>> lost = new HashSet<>();
        for (ActorRef<WorkerActor.Command> w : registered) {
            if (addressOf(w).equals(gone)) lost.add(w);
        }
        return lost;
    }

    private Address addressOf(ActorRef<?> ref) {
        Address a = ref.path().address();
        return a.hasGlobalScope() ? a : cluster.selfMember().address();
    }
}
