package ai.arbor.actors.metrics;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import kamon.Kamon;
import kamon.metric.Gauge;
import kamon.tag.TagSet;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * {@code arbor_cluster_members{role,status}}: this node's view of the cluster, sampled from Pekko Cluster's state.
 * A member with several roles counts once per role; members with no Arbor role count under role {@code none}.
 * Series of (role, status) pairs that emptied are set to 0 rather than dropped, so dashboards see the drop.
 */
public final class ClusterMetrics implements AutoCloseable {
    static final String MEMBERS = "arbor.cluster.members";
    public static final Duration SAMPLE_EVERY = Duration.ofSeconds(1);

    private final Cancellable schedule;
    private final Set<TagSet> seen = new HashSet<>();
    private final Cluster cluster;

    private ClusterMetrics(ActorSystem<?> system) {
        this.cluster = Cluster.get(system);
        this.schedule = system.scheduler().scheduleAtFixedRate(Duration.ZERO, SAMPLE_EVERY, this::sample,
                system.executionContext());
    }

    /** Samples until closed or the system stops; the system must use the cluster provider. */
    public static ClusterMetrics start(ActorSystem<?> system) {
        ClusterMetrics m = new ClusterMetrics(system);
        system.getWhenTerminated().thenRun(m::close);
        return m;
    }

    private synchronized void sample() {
        Map<TagSet, Integer> counts = new HashMap<>();
        for (Member m : cluster.state().getMembers()) {
            String status = m.status().toString().toLowerCase();
            Set<String> roles = new HashSet<>();
            for (String r : m.getRoles()) if (!r.startsWith("dc-")) roles.add(r); // Pekko's implicit data-center role
            if (roles.isEmpty()) roles.add("none");
            for (String r : roles) counts.merge(TagSet.builder().add("role", r).add("status", status).build(), 1, Integer::sum);
        }
        for (Map.Entry<TagSet, Integer> e : counts.entrySet()) gauge(e.getKey()).update(e.getValue());
        for (TagSet t : seen) if (!counts.containsKey(t)) gauge(t).update(0);
        seen.addAll(counts.keySet());
    }

    private static Gauge gauge(TagSet tags) { return Kamon.gauge(MEMBERS).withTags(tags); }

    @Override
    public void close() { schedule.cancel(); }
}
