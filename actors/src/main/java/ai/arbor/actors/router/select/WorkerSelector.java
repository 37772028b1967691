package ai.arbor.actors.router.select;

import ai.arbor.actors.worker.WorkerActor;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * A router's strategy for picking a worker. Called only from the router actor, so implementations may keep plain
 * mutable state. KV-aware selection plugs in here: the request carries its token ids, and the hooks tell a strategy
 * what is in flight where.
 */
public interface WorkerSelector {

    /** Picks one of {@code workers} (never empty; the router's in-flight counts are already in it). */
    ActorRef<WorkerActor.Command> select(RoutingRequest request, List<WorkerLoad> workers);

    /** The request went to {@code worker}. */
    default void onRouted(RoutingRequest request, ActorRef<WorkerActor.Command> worker) {}

    /** The request finished or was cancelled. */
    default void onReleased(String requestId, ActorRef<WorkerActor.Command> worker) {}

    /** The set of workers changed (a Receptionist listing). */
    default void onWorkersChanged(Set<ActorRef<WorkerActor.Command>> workers) {}

    /**
     * What a strategy may look at: the request's id, the token ids whose cached prefix it would reuse, and the tokens
     * it makes the worker compute. A generation reuses its prompt's prefix ({@code tokens} is the prompt's length); an
     * embedding reuses none ({@code tokenIds} empty) and computes each of its inputs whole.
     */
    record RoutingRequest(String requestId, int[] tokenIds, int tokens) {
        public RoutingRequest(String requestId, int[] tokenIds) { this(requestId, tokenIds, tokenIds.length); }
    }

    /** A worker with the router's own count of requests (and their prompt tokens) it sent there and not yet released. */
    record WorkerLoad(ActorRef<WorkerActor.Command> worker, int activeRequests, long activeTokens) {}
}
