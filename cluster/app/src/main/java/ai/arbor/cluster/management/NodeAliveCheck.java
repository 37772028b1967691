package ai.arbor.cluster.management;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/** {@code /alive}: false once the node has hit a fatal problem it cannot recover from (e.g. its engine thread died). */
public final class NodeAliveCheck implements Supplier<CompletionStage<Boolean>> {
    private final NodeHealth health;

    public NodeAliveCheck(ActorSystem system) {
        this.health = NodeHealth.get(system);
    }

    @Override
    public CompletionStage<Boolean> get() {
        return CompletableFuture.completedFuture(health.alive());
    }
}
