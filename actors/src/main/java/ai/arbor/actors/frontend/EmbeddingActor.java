package ai.arbor.actors.frontend;

import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.worker.WorkerActor;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The frontend's actor for one embedding request: asks the router for a worker, which sends it the request's
 * {@link WorkerActor.Embed}, and completes {@code result} with the worker's vectors. It keeps the request counted at
 * the router until it ends. An embedding has no partial progress, so when its worker is lost (it stopped, or the
 * router reports its member unreachable or gone) it is simply sent again, to another worker, up to
 * {@code migrationLimit} times, as attempt {@code <id>#m<k>}; answers of earlier attempts are dropped, so the request
 * ends only with the attempt the router counts.
 *
 * <p>No timer of its own: the router answers every route, with {@link RouterActor.NoWorkers} after its worker wait.
 */
final class EmbeddingActor extends AbstractBehavior<EmbeddingActor.Command> {

    /** Local to the frontend's JVM. */
    sealed interface Command extends NoSerializationVerificationNeeded permits RouteResult, FromWorker, WorkerGone {}

    private record RouteResult(RouterActor.RouteReply reply) implements Command {}

    private record FromWorker(WorkerActor.EmbedReply reply) implements Command {}

    private enum WorkerGone implements Command { INSTANCE }

    static Behavior<Command> create(String requestId, List<int[]> inputs, RequestActor.Routing routing,
                                    CompletableFuture<float[][]> result) {
        return Behaviors.setup(ctx -> new EmbeddingActor(ctx, requestId, inputs, routing, result));
    }

    private final String requestId;
    private final RequestActor.Routing routing;
    private final CompletableFuture<float[][]> result;
    private final List<int[]> inputs;
    private final int tokens;
    private final ActorRef<WorkerActor.EmbedReply> replies;
    private final ActorRef<RouterActor.RouteReply> routeReplies;
    private String attemptId;
    private ActorRef<WorkerActor.Command> worker;
    private int moves;

    private EmbeddingActor(ActorContext<Command> ctx, String requestId, List<int[]> inputs,
                           RequestActor.Routing routing, CompletableFuture<float[][]> result) {
        super(ctx);
        this.requestId = requestId;
        this.routing = routing;
        this.result = result;
        this.inputs = inputs;
        int sum = 0;
        for (int[] in : inputs) sum += in.length;
        this.tokens = sum;
        this.replies = ctx.messageAdapter(WorkerActor.EmbedReply.class, FromWorker::new);
        this.routeReplies = ctx.messageAdapter(RouterActor.RouteReply.class, RouteResult::new);
        route(requestId, Set.of());
    }

    /** The router sends the worker it picks the Embed of this attempt: a hop less than sending it after Routed. */
    private void route(String attempt, Set<ActorRef<WorkerActor.Command>> avoid) {
        attemptId = attempt;
        routing.router().tell(new RouterActor.RouteEmbedding(requestId, tokens,
                new WorkerActor.Embed(attempt, inputs, replies), routeReplies, avoid));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(RouteResult.class, this::onRouted)
                .onMessage(FromWorker.class, this::onWorkerReply)
                .onMessage(WorkerGone.class, g -> worker == null ? this : move("its worker " + worker.path() + " stopped"))
                .build();
    }

    private Behavior<Command> onRouted(RouteResult r) {
        if (r.reply() instanceof RouterActor.WorkerLost lost) {
            return lost.worker().equals(worker) ? move("its worker " + worker.path().address() + " was lost") : this;
        }
        if (r.reply() instanceof RouterActor.NoWorkers nw) {
            return fail(null, moves == 0 ? nw.reason() : "its worker was lost and " + nw.reason());
        }
        // the router already sent the worker our Embed
        worker = ((RouterActor.Routed) r.reply()).worker();
        getContext().watchWith(worker, WorkerGone.INSTANCE);
        return this;
    }

    private Behavior<Command> onWorkerReply(FromWorker m) {
        if (!m.reply().requestId().equals(attemptId)) return this;
        routing.router().tell(new RouterActor.Release(requestId));
        if (m.reply() instanceof WorkerActor.Embedded e) {
            result.complete(e.vectors());
            return Behaviors.stopped();
        }
        WorkerActor.EmbedFailed f = (WorkerActor.EmbedFailed) m.reply();
        return fail(f.why(), f.message());
    }

    /** The worker is lost: the whole request goes to another one, unless it already moved as often as allowed. */
    private Behavior<Command> move(String why) {
        ActorRef<WorkerActor.Command> lost = worker;
        getContext().unwatch(lost);
        worker = null;
        routing.router().tell(new RouterActor.Release(requestId));
        if (moves >= routing.migrationLimit()) {
            return fail(null, "the embedding failed: " + why + " and it already moved " + moves
                    + " time(s) (migration limit " + routing.migrationLimit() + ")");
        }
        moves++;
        getContext().getLog().info("embedding {} moves to another worker ({})", requestId, why);
        route(requestId + "#m" + moves, Set.of(lost));
        return this;
    }

    private Behavior<Command> fail(WorkerActor.EmbedFailed.Why why, String message) {
        result.completeExceptionally(new EmbeddingFailure(why, message));
        return Behaviors.stopped();
    }
}
