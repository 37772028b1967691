package ai.arbor.actors.router.select;

import ai.arbor.actors.metrics.RouterMetrics;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.KvSharingSettings;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

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
    private final KvSharingPlanner sharing;
    private WorkerActor.KvHint lastHint;

    public KvCostSelector(ActorSystem<?> system, KvRouting routing, Random random) {
        this(system, routing, random, KvSharingSettings.defaults());
    }

    /** With KV sharing between workers: disaggregated prefill and prefix pulls, as {@code kvSharing} says. */
    public KvCostSelector(ActorSystem<?> system, KvRouting routing, Random random,
                          KvSharingSettings kvSharing) {
        this.system = system;
        this.routing = routing;
        this.random = random;
        this.sharing = new KvSharingPlanner(system, routing, kvSharing);
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
        ActorRef<WorkerActor.Command> chosen = workers.get(lastDecision.index()).worker();
        // no prefix to fetch from a peer: an embedding's passes use no cached blocks
        lastHint = request.tokenIds().length == 0 ? null : sharing.plan(request.requestId(), request.tokenIds(), workers, chosen);
        if (lastHint != null && lastHint.prefill()) RouterMetrics.disaggregated(routing.model());
        return chosen;
    }

    /** Request workers whose block transfer endpoint the router knows (tests wait for it). */
    int knownTransferEndpoints() { return sharing.knownEndpoints(); }

    /** The last decision (its worker's cached overlap), for the router to report. */
    public KvRouting.Decision lastDecision() { return lastDecision; }

    @Override
    public void onRouted(RoutingRequest request, ActorRef<WorkerActor.Command> worker) {
        routing.routed(request.requestId(), idOf(worker), request.tokens(), lastDecision);
        // ahead of the request's Generate, which the router forwards (or the requester sends) right after this
        if (lastHint != null && lastHint.requestId().equals(request.requestId())) worker.tell(lastHint);
        lastHint = null;
    }

    @Override
    public void onReleased(String requestId, ActorRef<WorkerActor.Command> worker) {
        routing.released(requestId);
        sharing.released(requestId);
    }

    @Override
    public void onWorkersChanged(Set<ActorRef<WorkerActor.Command>> workers) {
        sharing.workersChanged(workers);
        Set<ActorRef<WorkerActor.Command>> gone = new HashSet<>(ids.keySet());
        gone.removeAll(workers);
        for (ActorRef<WorkerActor.Command> w : gone) routing.removeWorker(ids.remove(w));
        for (ActorRef<WorkerActor.Command> w : workers) idOf(w);
    }
}
