package ai.arbor.cluster.management;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * This node's own view of its health, read by the management health checks: a worker is ready once its model is
 * loaded, and stops being ready when it starts draining (so load balancers and routers stop sending it work).
 */
public final class NodeHealth implements Extension {
    private volatile boolean modelLoaded;
    private volatile boolean draining;
    private volatile String problem = "";
    private volatile Supplier<Map<String, Object>> details = Map::of;

    public static NodeHealth get(ActorSystem system) {
        return Id.INSTANCE.apply(system);
    }

    public static NodeHealth get(org.apache.pekko.actor.typed.ActorSystem<?> system) {
        return get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system));
    }

    public void modelLoaded(boolean loaded) { this.modelLoaded = loaded; }

    public void draining(boolean draining) { this.draining = draining; }

    /** A fatal problem (e.g. the engine thread died): the node reports itself not alive, so Kubernetes restarts it. */
    public void failed(String problem) { this.problem = problem == null ? "" : problem; }

    /** What {@code /arbor/node} shows besides the health flags (roles, the engine's counters, ...). */
    public void details(Supplier<Map<String, Object>> details) { this.details = details; }

    public Map<String, Object> snapshot() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ready", ready());
        out.put("alive", alive());
        out.put("modelLoaded", modelLoaded);
        out.put("draining", draining);
        if (!alive()) out.put("problem", problem);
        out.putAll(details.get());
        return out;
    }

    public boolean modelLoaded() { return modelLoaded; }

    public boolean draining() { return draining; }

    public boolean alive() { return problem.isEmpty(); }

    public String problem() { return problem; }

    public boolean ready() { return modelLoaded && !draining && alive(); }

    static final class Id extends AbstractExtensionId<NodeHealth> {
        static final Id INSTANCE = new Id();

        @Override
        public NodeHealth createExtension(ExtendedActorSystem system) {
            return new NodeHealth();
        }
    }
}
