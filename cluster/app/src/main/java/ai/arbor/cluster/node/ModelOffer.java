package ai.arbor.cluster.node;

import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.cluster.registry.EtcdModelRegistry;
import ai.arbor.cluster.registry.ModelAvailability;
import ai.arbor.http.ModelRegistry;
import ai.arbor.http.ServedModel;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Whether a frontend offers its model: while some worker's card in etcd says it serves or loads the model, <em>or</em>
 * the cluster's Receptionist lists a worker for it. Cards alone are not enough: when etcd was unreachable for longer
 * than a lease's TTL, a worker's cards are deleted and written again under a new lease, and in between the frontend
 * would answer 404 for a model its workers are serving. Workers alone are not enough either: a loading worker has a
 * card (requests wait for it) before it joins the Receptionist. A model goes away only when both say so, which is what
 * a draining or dead last worker does (it leaves the Receptionist and its card is withdrawn or expires).
 */
final class ModelOffer {
    private final EtcdModelRegistry registry;
    private final ModelRegistry models;
    private final ServedModel served;
    private volatile boolean workersListed;

    private ModelOffer(EtcdModelRegistry registry, ModelRegistry models, ServedModel served) {
        this.registry = registry;
        this.models = models;
        this.served = served;
    }

    /** Keeps {@code served} in {@code models} while cards or the Receptionist say a worker has it. */
    static void install(ActorSystem<?> system, EtcdModelRegistry registry, ModelRegistry models, ServedModel served) {
        ModelOffer offer = new ModelOffer(registry, models, served);
        registry.addListener(cards -> offer.update());
        system.systemActorOf(offer.watchWorkers(), "model-offer-" + served.name().replaceAll("[^A-Za-z0-9_-]", "_"),
                Props.empty());
    }

    private Behavior<Receptionist.Listing> watchWorkers() {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(WorkerActor.serviceKey(served.name()), ctx.getSelf()));
            return Behaviors.receiveMessage(listing -> {
                workersListed = !listing.getAllServiceInstances(WorkerActor.serviceKey(served.name())).isEmpty();
                update();
                return Behaviors.same();
            });
        });
    }

    private synchronized void update() {
        boolean offered = workersListed || registry.availability(served.name()) != ModelAvailability.UNKNOWN;
        if (!offered) models.remove(served.name());
        else if (models.get(served.name()).isEmpty()) models.add(served);
    }
}
