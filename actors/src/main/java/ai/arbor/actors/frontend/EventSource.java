package ai.arbor.actors.frontend;

import ai.arbor.actors.generation.GenerationEvent;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * The response stream's end of an {@link EventChannel}: emits the request's events on demand, completes after
 * {@link EventChannel#COMPLETE}, fails with a {@link GenerationEvent.Failure}. Tells the request's actor when it
 * starts, and when it is cancelled before the end (the client went away), so that the actor cancels the generation.
 * Runs once.
 */
final class EventSource extends GraphStage<SourceShape<GenerationEvent>> {
    private final Outlet<GenerationEvent> out = Outlet.create("EventSource.out");
    private final SourceShape<GenerationEvent> shape = SourceShape.of(out);
    private final EventChannel channel;
    private final ActorRef<RequestActor.Command> actor;

    EventSource(EventChannel channel, ActorRef<RequestActor.Command> actor) {
        this.channel = channel;
        this.actor = actor;
    }

    @Override
    public SourceShape<GenerationEvent> shape() { return shape; }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new GraphStageLogic(shape) {
            private boolean ended;

            {
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() { emitNext(); }
                });
            }

            @Override
            public void preStart() {
                AsyncCallback<Object> more = createAsyncCallback(x -> { if (isAvailable(out)) emitNext(); });
                channel.attach(() -> more.invoke(Boolean.TRUE), i -> actor.tell(new RequestActor.ChoiceStopped(i)));
                actor.tell(RequestActor.StreamReady.INSTANCE);
            }

            @Override
            public void postStop() {
                // cancelled (the client went away) or torn down before the end
                if (!ended) actor.tell(RequestActor.StreamGone.INSTANCE);
            }

            private void emitNext() {
                Object e = channel.take();
                if (e == null) return; // woken when there is more
                if (e == EventChannel.COMPLETE) {
                    ended = true;
                    completeStage();
                } else if (e instanceof GenerationEvent.Failure f) {
                    ended = true;
                    failStage(f);
                } else {
                    push(out, (GenerationEvent) e);
                }
            }
        };
    }
}
