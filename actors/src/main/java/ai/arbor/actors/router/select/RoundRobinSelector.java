package ai.arbor.actors.router.select;

import ai.arbor.actors.worker.WorkerActor;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/** Each request to the next worker in turn. */
public final class RoundRobinSelector implements WorkerSelector {
    private long next;

    @Override
    public ActorRef<WorkerActor.Command> select(RoutingRequest request, List<WorkerLoad> workers) {
        return workers.get((int) Math.floorMod(next++, (long) workers.size())).worker();
    }
}
