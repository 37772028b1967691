package ai.arbor.actors.frontend;

import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.FrontendSettings;
import java.time.Duration;
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
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The frontend's actor for one embedding request: asks the router for a worker, which sends it the request's
 * {@link WorkerActor.Embed}, and completes {@code result} with the worker's vectors. It keeps the request counted at
 * the router until it ends. An embedding has no partial progress, so when its worker is lost (it stopped, or the
 * router reports its member unreachable or gone) it is simply sent again, to another worker, up to
 * {@code migrationLimit} times, as attempt {@code <id>#m<k>}; answers of earlier attempts are dropped, so the request
 * ends only with the attempt the router counts.
 *
 * <p>It ends by {@code deadline} at the latest, failing with {@link EmbeddingFailure#timedOut()}: a live worker that
 * never answers (its engine stuck, or lost without its member going) must not hold the request, and what the caller
 * counts for it, forever. A caller that cancels {@code result} gives it up at once. Either way the worker is told to
 * drop the job ({@link WorkerActor.Cancel}) and the router to stop counting it; while the route is still pending, the
 * actor waits for it (the router answers within its worker wait) so as to tell the worker it picks.
 */
final class EmbeddingActor extends AbstractBehavior<EmbeddingActor.Command> {

    /** Local to the frontend's JVM. */
    sealed interface Command extends NoSerializationVerificationNeeded
            permits RouteResult, FromWorker, WorkerGone, Deadline, Abandoned, RouteWaitOver {}

    private record RouteResult(RouterActor.RouteReply reply) implements Command {}

    private record FromWorker(WorkerActor.EmbedReply reply) implements Command {}

    private enum WorkerGone implements Command { INSTANCE }

    private enum Deadline implements Command { INSTANCE }

    /** The caller cancelled {@code result}. */
    private enum Abandoned implements Command { INSTANCE }

    /** Given up while its route was pending, the router never answered: a router that is gone. */
    private enum RouteWaitOver implements Command { INSTANCE }

    static Behavior<Command> create(String requestId, List<int[]> inputs, RequestActor.Routing routing,
                                    Duration deadline, CompletableFuture<float[][]> result) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startSingleTimer(Deadline.INSTANCE, Deadline.INSTANCE, deadline);
            return new EmbeddingActor(ctx, timers, requestId, inputs, routing, deadline, result);
        }));
    }

    private final TimerScheduler<Command> timers;
    private final String requestId;
    private final RequestActor.Routing routing;
    private final Duration deadline;
    private final CompletableFuture<float[][]> result;
    private final List<int[]> inputs;
    private final int tokens;
    private final ActorRef<WorkerActor.EmbedReply> replies;
    private final ActorRef<RouterActor.RouteReply> routeReplies;
    private String attemptId;
    private ActorRef<WorkerActor.Command> worker;
    private int moves;

    private EmbeddingActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, String requestId,
                           List<int[]> inputs, RequestActor.Routing routing, Duration deadline,
                           CompletableFuture<float[][]> result) {
        super(ctx);
        this.timers = timers;
        this.requestId = requestId;
        this.routing = routing;
        this.deadline = deadline;
        this.result = result;
        this.inputs = inputs;
        int sum = 0;
        for (int[] in : inputs) sum += in.length;
        this.tokens = sum;
        this.replies = ctx.messageAdapter(WorkerActor.EmbedReply.class, FromWorker::new);
        this.routeReplies = ctx.messageAdapter(RouterActor.RouteReply.class, RouteResult::new);
        ActorRef<Command> self = ctx.getSelf();
        // runs where the caller cancels, or where this actor completes it (then not cancelled): telling only enqueues
        result.whenComplete((v, t) -> {
            if (result.isCancelled()) self.tell(Abandoned.INSTANCE);
        });
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
                .onMessage(Deadline.class, d -> {
                    result.completeExceptionally(EmbeddingFailure.timedOut("no embedding within "
                            + FrontendSettings.requestTimeoutText(deadline)));
                    return giveUp();
                })
                .onMessage(Abandoned.class, a -> giveUp())
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

    /**
     * {@code result} is complete (timed out or cancelled): the worker drops the job and the router stops counting it,
     * now if the route is known, else once it is.
     */
    private Behavior<Command> giveUp() {
        timers.cancel(Deadline.INSTANCE);
        if (worker != null) {
            worker.tell(new WorkerActor.Cancel(attemptId));
            routing.router().tell(new RouterActor.Release(requestId));
            return Behaviors.stopped();
        }
        // the router may yet place it (a Release now would find nothing to release) and send our Embed to a worker
        timers.startSingleTimer(RouteWaitOver.INSTANCE, RouteWaitOver.INSTANCE, routing.routeTimeout().multipliedBy(2));
        return Behaviors.receive(Command.class)
                .onMessage(RouteResult.class, r -> {
                    if (r.reply() instanceof RouterActor.Routed routed) {
                        routed.worker().tell(new WorkerActor.Cancel(attemptId));
                        routing.router().tell(new RouterActor.Release(requestId));
                        return Behaviors.stopped();
                    }
                    return r.reply() instanceof RouterActor.NoWorkers ? Behaviors.stopped() : Behaviors.same();
                })
                .onMessage(FromWorker.class, m -> {
                    // answered before the route reached us: nothing left to drop
                    if (!m.reply().requestId().equals(attemptId)) return Behaviors.same();
                    routing.router().tell(new RouterActor.Release(requestId));
                    return Behaviors.stopped();
                })
                .onMessage(RouteWaitOver.class, w -> Behaviors.stopped())
                .onAnyMessage(m -> Behaviors.same())
                .build();
    }
}
