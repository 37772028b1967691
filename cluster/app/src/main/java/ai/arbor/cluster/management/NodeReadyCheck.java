package ai.arbor.cluster.management;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/**
 * {@code /ready}: the model is loaded (workers; frontends: their HTTP server is bound) and the node is not draining.
 * Cluster membership (member Up) is checked by Pekko Management's own {@code cluster-membership} check alongside.
 */
public final class NodeReadyCheck implements Supplier<CompletionStage<Boolean>> {
    private final NodeHealth health;

    public NodeReadyCheck(ActorSystem system) {
        this.health = NodeHealth.get(system);
    }

    @Override
    public CompletionStage<Boolean> get() {
        return CompletableFuture.completedFuture(health.ready());
    }
}
