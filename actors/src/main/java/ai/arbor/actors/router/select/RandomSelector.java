package ai.arbor.actors.router.select;

import ai.arbor.actors.worker.WorkerActor;
import java.util.List;
import java.util.Random;
import org.apache.pekko.actor.typed.ActorRef;

/** Router mode {@code random}: a uniformly random worker, the baseline KV-aware routing is measured against. */
public final class RandomSelector implements WorkerSelector {
    private final Random random;

    public RandomSelector() { this(new Random()); }

    public RandomSelector(Random random) { this.random = random; }

    @Override
    public ActorRef<WorkerActor.Command> select(RoutingRequest request, List<WorkerLoad> workers) {
        return workers.get(random.nextInt(workers.size())).worker();
    }
}
