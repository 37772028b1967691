package ai.arbor.actors.router.select;

import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.KvSharingSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The router's KV-sharing decisions on top of KV-aware selection (Dynamo's disaggregated router, conditional form).
 * Prefill workers register under their own key ({@link WorkerActor#prefillServiceKey}), so requests never land on
 * them; for the decode worker a request was routed to, a prefill worker computes the prompt when the tokens the decode
 * worker lacks reach {@code disagg-min-prefill-tokens} — the one with the most of the prompt cached and the fewest of
 * this router's prefill tokens in flight. Otherwise the decode worker pulls the prefix from a peer that holds
 * {@code peer-pull-min-blocks} more of its leading blocks. Transfer endpoints are asked once per worker.
 * Router actor only, except the listing and endpoint replies, which land in concurrent maps.
 */
final class KvSharingPlanner {
    private final ActorSystem<?> system;
    private final KvRouting routing;
    private final KvSharingSettings settings;
    private final Map<ActorRef<WorkerActor.Command>, WorkerActor.KvEndpoint> endpoints = new ConcurrentHashMap<>();
    private final Map<ActorRef<WorkerActor.Command>, WorkerActor.KvEndpoint> prefillWorkers = new ConcurrentHashMap<>();
    private final Map<ActorRef<WorkerActor.Command>, Long> prefillTokensInFlight = new HashMap<>();
    private final Map<String, Prefill> prefills = new HashMap<>();

    private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();

    private record Prefill(ActorRef<WorkerActor.Command> worker, long tokens) {}

    KvSharingPlanner(ActorSystem<?> system, KvRouting routing, KvSharingSettings settings) {
        this.system = system;
        this.routing = routing;
        this.settings = settings;
        system.systemActorOf(Behaviors.<Receptionist.Listing>setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(
                    WorkerActor.prefillServiceKey(routing.model()), ctx.getSelf()));
            return Behaviors.receiveMessage(l -> {
                Set<ActorRef<WorkerActor.Command>> listed = l.getServiceInstances(WorkerActor.prefillServiceKey(routing.model()));
                prefillWorkers.keySet().retainAll(listed);
                learn(listed, prefillWorkers);
                return Behaviors.same();
            });
        }), "kv-prefill-workers-" + INSTANCES.incrementAndGet(), Props.empty()); // model names need not be actor names
    }

    /** Learns the endpoints of request workers that joined and forgets those that left. */
    void workersChanged(Set<ActorRef<WorkerActor.Command>> workers) {
        endpoints.keySet().retainAll(workers);
        learn(workers, endpoints);
    }

    private void learn(Set<ActorRef<WorkerActor.Command>> workers, Map<ActorRef<WorkerActor.Command>, WorkerActor.KvEndpoint> into) {
        for (ActorRef<WorkerActor.Command> w : workers) {
            if (into.containsKey(w)) continue;
            AskPattern.<WorkerActor.Command, WorkerActor.KvEndpoint>ask(w, WorkerActor.GetKvEndpoint::new,
                    Duration.ofSeconds(10), system.scheduler()).thenAccept(e -> {
                        if (e.port() > 0) into.put(w, e);
                    });
        }
    }

    /**
     * The hint for the request routed to {@code decodeWorker}, or null to compute its prompt there.
     *
     * @param workers the request workers, {@code decodeWorker} among them
     */
    WorkerActor.KvHint plan(String requestId, int[] prompt, List<WorkerSelector.WorkerLoad> workers,
                            ActorRef<WorkerActor.Command> decodeWorker) {
        int blockSize = routing.indexer().blockSize();
        long decodeId = WorkerIds.of(system, decodeWorker);
        List<ActorRef<WorkerActor.Command>> prefill = List.copyOf(prefillWorkers.keySet());
        if (!prefill.isEmpty()) {
            long[] ids = new long[prefill.size() + 1];
            for (int i = 0; i < prefill.size(); i++) ids[i] = WorkerIds.of(system, prefill.get(i));
            ids[prefill.size()] = decodeId;
            int[] depths = routing.cachedDepths(prompt, ids);
            int uncached = prompt.length - depths[prefill.size()] * blockSize;
            if (uncached >= Math.max(1, settings.disaggMinPrefillTokens())) {
                int best = -1;
                double bestCost = Double.POSITIVE_INFINITY;
                for (int i = 0; i < prefill.size(); i++) {
                    double cost = prompt.length - depths[i] * blockSize + prefillTokensInFlight.getOrDefault(prefill.get(i), 0L);
                    if (cost < bestCost) {
                        bestCost = cost;
                        best = i;
                    }
                }
                ActorRef<WorkerActor.Command> p = prefill.get(best);
                WorkerActor.KvEndpoint e = prefillWorkers.get(p);
                if (e != null) {
                    prefills.put(requestId, new Prefill(p, uncached));
                    prefillTokensInFlight.merge(p, (long) uncached, Long::sum);
                    return new WorkerActor.KvHint(requestId, e.host(), e.port(), true);
                }
            }
        }
        if (workers.size() < 2) return null;
        long[] ids = new long[workers.size()];
        int decode = -1;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = WorkerIds.of(system, workers.get(i).worker());
            if (ids[i] == decodeId) decode = i;
        }
        int[] depths = routing.cachedDepths(prompt, ids);
        int peer = -1;
        for (int i = 0; i < ids.length; i++) {
            if (i == decode || !endpoints.containsKey(workers.get(i).worker())) continue;
            if (depths[i] - depths[decode] >= settings.peerPullMinBlocks() && (peer < 0 || depths[i] > depths[peer])) peer = i;
        }
        if (peer < 0) return null;
        WorkerActor.KvEndpoint e = endpoints.get(workers.get(peer).worker());
        return e == null ? null : new WorkerActor.KvHint(requestId, e.host(), e.port(), false);
    }

    int knownEndpoints() { return endpoints.size(); }

    void released(String requestId) {
        Prefill p = prefills.remove(requestId);
        if (p != null) prefillTokensInFlight.computeIfPresent(p.worker(), (w, t) -> t - p.tokens() <= 0 ? null : t - p.tokens());
    }
}
