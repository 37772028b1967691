package ai.arbor.actors.worker;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * Direct delivery of a worker's replies to a requester in the same actor system: a requester registers a thread-safe
 * consumer for its reply reference, and a worker of this system hands that request's outputs to it on the engine
 * thread instead of sending a message per token (one thread wake-up less per token). A requester in another system
 * (a remote frontend) is not found here, so its replies stay messages; the protocol is the same either way.
 *
 * <p>The consumer must be quick and never block: it runs between the engine's steps.
 */
public final class LocalReplies implements Extension {

    private static final ExtensionId<LocalReplies> ID = new ExtensionId<>() {
        @Override
        public LocalReplies createExtension(ActorSystem<?> system) { return new LocalReplies(); }
    };

    public static LocalReplies get(ActorSystem<?> system) { return system.registerExtension(ID); }

    private final ConcurrentHashMap<ActorRef<WorkerActor.Reply>, Consumer<WorkerActor.Reply>> consumers =
            new ConcurrentHashMap<>();

    /** Replies handed over so far: directly to a registered consumer, or sent as messages. */
    public record Deliveries(long direct, long messages) {}

    private final LongAdder direct = new LongAdder();
    private final LongAdder messages = new LongAdder();

    private LocalReplies() {}

    /** How this system's workers delivered their replies so far: which requests took the one-hop path. */
    public Deliveries deliveries() { return new Deliveries(direct.sum(), messages.sum()); }

    /** Replies to {@code replyTo} go to {@code consumer} from now on (for requests a worker starts after this). */
    public void register(ActorRef<WorkerActor.Reply> replyTo, Consumer<WorkerActor.Reply> consumer) {
        consumers.put(replyTo, consumer);
    }

    public void unregister(ActorRef<WorkerActor.Reply> replyTo) { consumers.remove(replyTo); }

    /** How to deliver a reply to {@code replyTo}: its registered consumer, or a message. */
    Consumer<WorkerActor.Reply> deliveryTo(ActorRef<WorkerActor.Reply> replyTo) {
        Consumer<WorkerActor.Reply> c = consumers.get(replyTo);
        if (c == null) {
            return reply -> {
                messages.increment();
                replyTo.tell(reply);
            };
        }
        return reply -> {
            direct.increment();
            c.accept(reply);
        };
    }
}
