package ai.arbor.cluster.routing;

import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.RequestOutput;
import ai.arbor.gpu.protocol.SamplingParams;
import java.time.Duration;
import java.util.Arrays;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One request as a frontend sees it across the cluster: it runs on one worker at a time; if that worker is lost before
 * the last output (its member became unreachable or left, or the worker actor stopped), the request moves to another
 * worker as a new request whose prompt is the original prompt plus every token generated so far, with the output
 * budget reduced by as many tokens, as Dynamo's migration does. The caller sees one stream under the original request
 * id, with token counts as if nothing had happened. After {@code migrationLimit} moves, or when no worker is left
 * within {@code waitForWorker}, the caller gets a {@link WorkerActor.Rejected} ending its stream with a clear reason.
 */
final class MigratingRequest extends AbstractBehavior<MigratingRequest.Command> {

    sealed interface Command permits Assigned, WorkerLost, Cancel, FromWorker, NoWorkerInTime {}

    record Assigned(ActorRef<WorkerActor.Command> worker) implements Command {}

    record WorkerLost(ActorRef<WorkerActor.Command> worker) implements Command {}

    record Cancel() implements Command {}

    private record FromWorker(WorkerActor.Reply reply) implements Command {}

    private record NoWorkerInTime() implements Command {}

    static Behavior<Command> create(EngineRequest request, ActorRef<WorkerActor.Reply> caller,
                                    ActorRef<ClusterWorkers.Command> workers, int migrationLimit, Duration waitForWorker) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new MigratingRequest(ctx, timers, request, caller, workers, migrationLimit, waitForWorker)));
    }

    private final TimerScheduler<Command> timers;
    private final EngineRequest original;
    private final ActorRef<WorkerActor.Reply> caller;
    private final ActorRef<ClusterWorkers.Command> workers;
    private final int migrationLimit;
    private final Duration waitForWorker;
    private final ActorRef<WorkerActor.Reply> replies;
    private int[] generated = new int[0];
    private int migrations;
    private int cachedTokens;
    private ActorRef<WorkerActor.Command> worker;
    private String attemptId;
    private boolean cancelled;

    private MigratingRequest(ActorContext<Command> ctx, TimerScheduler<Command> timers, EngineRequest request,
                             ActorRef<WorkerActor.Reply> caller, ActorRef<ClusterWorkers.Command> workers,
                             int migrationLimit, Duration waitForWorker) {
        super(ctx);
        this.timers = timers;
        this.original = request;
        this.caller = caller;
        this.workers = workers;
        this.migrationLimit = migrationLimit;
        this.waitForWorker = waitForWorker;
        this.replies = ctx.messageAdapter(WorkerActor.Reply.class, FromWorker::new);
        askForWorker(original.requestId(), original.promptTokenIds(), null);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Assigned.class, this::onAssigned)
                .onMessage(FromWorker.class, this::onReply)
                .onMessage(WorkerLost.class, l -> l.worker().equals(worker) ? migrate("its worker " + worker.path().address() + " was lost") : this)
                .onMessage(NoWorkerInTime.class, n -> fail("no worker serving this model is available"))
                .onMessage(Cancel.class, this::onCancel)
                .onSignal(Terminated.class, t -> t.getRef().equals(worker) ? migrate("its worker " + worker.path() + " stopped") : this)
                .build();
    }

    private void askForWorker(String id, int[] prompt, ActorRef<WorkerActor.Command> exclude) {
        workers.tell(new ClusterWorkers.NeedWorker(getContext().getSelf(), id, prompt, exclude));
        timers.startSingleTimer("no-worker", new NoWorkerInTime(), waitForWorker);
    }

    private Behavior<Command> onAssigned(Assigned a) {
        timers.cancel("no-worker");
        if (cancelled) return finish();
        worker = a.worker();
        getContext().watch(worker);
        int[] prompt = attemptPrompt();
        attemptId = attemptId();
        worker.tell(new WorkerActor.Generate(new EngineRequest(attemptId, prompt, remaining(original.sampling())), replies));
        return this;
    }

    private Behavior<Command> onReply(FromWorker f) {
        WorkerActor.Reply reply = f.reply();
        if (!reply.requestId().equals(attemptId)) return this; // a late output of an abandoned attempt
        if (reply instanceof WorkerActor.Rejected r) {
            caller.tell(new WorkerActor.Rejected(original.requestId(), r.reason()));
            return finish();
        }
        RequestOutput out = ((WorkerActor.Output) reply).output();
        if (migrations == 0) cachedTokens = out.cachedTokens();
        generated = concat(generated, out.newTokenIds());
        caller.tell(new WorkerActor.Output(new RequestOutput(original.requestId(), out.newTokenIds(), out.logprobs(),
                out.finished(), out.finishReason(), original.promptTokenIds().length, cachedTokens, generated.length)));
        return out.finished() ? finish() : this;
    }

    private Behavior<Command> migrate(String why) {
        ActorRef<WorkerActor.Command> lost = worker;
        getContext().unwatch(lost);
        // If the member is merely unreachable the worker may still be generating: stop it, its output is not wanted.
        lost.tell(new WorkerActor.Cancel(attemptId));
        worker = null;
        attemptId = null;
        if (migrations >= migrationLimit) {
            return fail(why + " and the request already moved " + migrations + " time(s) (migration limit " + migrationLimit + ")");
        }
        migrations++;
        getContext().getLog().info("request {} moves to another worker ({}), {} tokens generated so far",
                original.requestId(), why, generated.length);
        workers.tell(new ClusterWorkers.AttemptAbandoned(getContext().getSelf()));
        askForWorker(attemptId(), attemptPrompt(), lost);
        return this;
    }

    private Behavior<Command> onCancel(Cancel c) {
        cancelled = true;
        if (worker != null) worker.tell(new WorkerActor.Cancel(attemptId));
        return this; // the worker answers with a final ABORT output, which ends this request
    }

    private Behavior<Command> fail(String reason) {
        caller.tell(new WorkerActor.Rejected(original.requestId(), "request " + original.requestId() + " failed: " + reason));
        return finish();
    }

    /** The id of the current attempt: the request's own at first, then one per migration. */
    private String attemptId() {
        return migrations == 0 ? original.requestId() : original.requestId() + "#m" + migrations;
    }

    /** The prompt of the current attempt: the original prompt plus whatever was generated before a migration. */
    private int[] attemptPrompt() {
        return concat(original.promptTokenIds(), generated);
    }

    private Behavior<Command> finish() {
        // ClusterWorkers knows which attempt ran where and releases its load
        workers.tell(new ClusterWorkers.RequestFinished(original.requestId(), getContext().getSelf()));
        return Behaviors.stopped();
    }

    private SamplingParams remaining(SamplingParams s) {
        int done = generated.length;
        return s.toBuilder().maxTokens(Math.max(1, s.maxTokens() - done)).minTokens(Math.max(0, s.minTokens() - done))
                .build();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
