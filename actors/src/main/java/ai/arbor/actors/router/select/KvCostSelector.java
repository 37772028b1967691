package ai.arbor.actors.router.select;

import ai.arbor.actors.metrics.RouterMetrics;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.worker.WorkerActor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Router mode {@code kv}: {@link KvRouting#select} over the router's workers, with the router's own in-flight prompt
 * tokens per worker as local load. It also tells the other router replicas what it routed and released, and drops
 * from the index a worker that left the Receptionist listing.
 */
public final class KvCostSelector implements WorkerSelector {
    private final ActorSystem<?> system;
    private final KvRouting routing;
    private final Random random;
    private final Map<ActorRef<WorkerActor.Command>, Long> ids = new HashMap<>();
    private KvRouting.Decision lastDecision;

    public KvCostSelector(ActorSystem<?> system, KvRouting routing, Random random) {
        this.system = system;
        this.routing = routing;
        this.random = random;
    }

    private long idOf(ActorRef<WorkerActor.Command> worker) {
        return ids.computeIfAbsent(worker, w -> WorkerIds.of(system, w));
    }

    @Override
    public ActorRef<WorkerActor.Command> select(RoutingRequest request, List<WorkerLoad> workers) {
        long[] workerIds = new long[workers.size()];
        long[] load = new long[workers.size()];
        for (int i = 0; i < workers.size(); i++) {
            workerIds[i] = idOf(workers.get(i).worker());
            // the router's own count is whole prompts; the KV router counts what each worker must compute
            load[i] = routing.uncachedTokensInFlight(workerIds[i]);
        }
        long t0 = System.nanoTime();
        lastDecision = routing.select(request.tokenIds(), workerIds, load, null, random);
        RouterMetrics.kvDecision(routing.model(), System.nanoTime() - t0,
                lastDecision.overlapBlocks(), request.tokenIds().length / routing.indexer().blockSize());
        return workers.get(lastDecision.index()).worker();
    }

    /** The last decision (its worker's cached overlap), for the router to report. */
    public KvRouting.Decision lastDecision() { return lastDecision; }

    @Override
    public void onRouted(RoutingRequest request, ActorRef<WorkerActor.Command> worker) {
        routing.routed(request.requestId(), idOf(worker), request.tokenIds().length, lastDecision);
    }

    @Override
    public void onReleased(String requestId, ActorRef<WorkerActor.Command> worker) {
        routing.released(requestId);
    }

    @Override
    public void onWorkersChanged(Set<ActorRef<WorkerActor.Command>> workers) {
        Set<ActorRef<WorkerActor.Command>> gone = new HashSet<>(ids.keySet());
        gone.removeAll(workers);
        for (ActorRef<WorkerActor.Command> w : gone) routing.removeWorker(ids.remove(w));
        for (ActorRef<WorkerActor.Command> w : workers) idOf(w);
    }
}
