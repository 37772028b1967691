package ai.arbor.actors.router.select;

import ai.arbor.actors.worker.WorkerActor;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The worker with the fewest active requests, then the fewest active prompt tokens; ties go round-robin so that
 * equal workers share a burst rather than the first one taking it all.
 */
public final class LeastLoadedSelector implements WorkerSelector {
    private int tieBreak;

    @Override
    public ActorRef<WorkerActor.Command> select(RoutingRequest request, List<WorkerLoad> workers) {
        int n = workers.size();
        int start = Math.floorMod(tieBreak++, n);
        WorkerLoad best = null;
        for (int i = 0; i < n; i++) {
            WorkerLoad w = workers.get((start + i) % n);
            if (best == null || w.activeRequests() < best.activeRequests()
                    || (w.activeRequests() == best.activeRequests() && w.activeTokens() < best.activeTokens())) {
                best = w;
            }
        }
        return best.worker();
    }
}
