package ai.arbor.actors.router;

import ai.arbor.actors.kvevents.KvEventBus;
import ai.arbor.actors.kvevents.KvEventPublisher;
import ai.arbor.actors.metrics.KvEventMetrics;
import ai.arbor.actors.router.kv.KvRouting;
import ai.arbor.actors.router.kv.WorkerIds;
import ai.arbor.actors.router.nats.JetStreamSnapshotStore;
import ai.arbor.actors.router.nats.NatsLoadSharing;
import ai.arbor.actors.router.select.KvCostSelector;
import ai.arbor.actors.router.select.WorkerSelector;
import ai.arbor.actors.router.select.WorkerSelectors;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.config.RouterSettings;
import ai.arbor.gpu.protocol.InferenceEngine;
import java.util.Random;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/** How a node assembles KV-aware routing: one call on the worker side, one on the router side. */
public final class KvWiring {
    private KvWiring() {}

    public static final String KV_MODE = "kv";

    /**
     * Worker side: the engine's KV events go to {@code bus} under the spawned worker's id ({@link WorkerIds}), with
     * their counts exported ({@link KvEventMetrics}), and with a host KV tier its reachable-set events under
     * {@link WorkerIds#reachable}; the publishers are closed with the actor system.
     */
    public static KvEventPublisher publishEvents(ActorSystem<?> system, ActorRef<WorkerActor.Command> worker,
                                                 InferenceEngine engine, KvEventBus bus, String model) {
        long workerId = WorkerIds.of(system, worker);
        KvEventPublisher publisher = bus.publisher(model, workerId);
        engine.addKvEventListener(publisher);
        KvEventMetrics metrics = KvEventMetrics.start(system, model, Long.toHexString(workerId), () -> new KvEventMetrics.Counts(
                publisher.dropped(), publisher.published(), publisher.resyncs(), publisher.queued()));
        system.getWhenTerminated().thenRun(() -> {
            metrics.close();
            publisher.close();
        });
        if (engine.hasHostKvTier()) {
            KvEventPublisher reachable = bus.publisher(model, WorkerIds.reachable(workerId));
            engine.addReachableKvEventListener(reachable);
            system.getWhenTerminated().thenRun(reachable::close);
        }
        return publisher;
    }

    /** Bucket of the JetStream object store that holds router index snapshots. */
    public static final String SNAPSHOT_BUCKET = "arbor-router-index";

    /**
     * A cluster router replica's KV state over NATS: index fed by {@code bus} (a {@code JetStreamKvEventBus} on
     * {@code nc}), snapshots in the {@link #SNAPSHOT_BUCKET} object store, in-flight load shared over NATS core.
     */
    public static KvRouting jetStreamRouting(io.nats.client.Connection nc, KvEventBus bus, String model,
                                             RouterSettings router, int blockSize) {
        return KvRouting.start(model, bus, java.util.Optional.of(new JetStreamSnapshotStore(nc, SNAPSHOT_BUCKET)),
                new NatsLoadSharing(nc, model, router.loadSyncInterval()), KvRouting.Settings.from(router, blockSize));
    }

    /** Router side: the selector for {@code mode}; {@code kv} uses {@code routing}, the others need nothing. */
    public static WorkerSelector selector(String mode, ActorSystem<?> system, java.util.function.Supplier<KvRouting> routing) {
        return selector(mode, system, routing, KvSharingSettings.defaults());
    }

    /** As above, with KV sharing between the workers (disaggregated prefill, prefix pulls) in mode {@code kv}. */
    public static WorkerSelector selector(String mode, ActorSystem<?> system, java.util.function.Supplier<KvRouting> routing,
                                          KvSharingSettings kvSharing) {
        if (KV_MODE.equals(mode)) {
            KvRouting r = routing.get();
            system.getWhenTerminated().thenRun(r::close);
            return new KvCostSelector(system, r, new Random(), kvSharing);
        }
        return WorkerSelectors.create(mode);
    }
}
