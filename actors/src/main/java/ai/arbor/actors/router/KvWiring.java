package ai.arbor.actors.router;

import ai.arbor.actors.kvevents.KvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.gpu.engine.InferenceEngine;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

import java.util.Random;

/** How a node assembles KV-aware routing: one call on the worker side, one on the router side. */
public final class KvWiring {
    private KvWiring() {}

    public static final String KV_MODE = "kv";

    /**
     * Worker side: the engine's KV events go to {@code bus} under the spawned worker's id ({@link WorkerIds}); the
     * publisher is closed with the actor system.
     */
    public static KvEventPublisher publishEvents(ActorSystem<?> system, ActorRef<WorkerActor.Command> worker,
                                                 InferenceEngine engine, KvEventBus bus, String model) {
        KvEventPublisher publisher = bus.publisher(model, WorkerIds.of(system, worker));
        engine.addKvEventListener(publisher);
        system.getWhenTerminated().thenRun(publisher::close);
        return publisher;
    }

    /** Router side: the selector for {@code mode}; {@code kv} uses {@code routing}, the others need nothing. */
    public static WorkerSelector selector(String mode, ActorSystem<?> system, java.util.function.Supplier<KvRouting> routing) {
        if (KV_MODE.equals(mode)) {
            KvRouting r = routing.get();
            system.getWhenTerminated().thenRun(r::close);
            return new KvCostSelector(system, r, new Random());
        }
        return WorkerSelectors.create(mode);
    }
}
