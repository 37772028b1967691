package ai.arbor.cluster.node;

import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.cluster.management.NodeHealth;
import ai.arbor.gpu.protocol.InferenceEngine;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's graceful exit, run by CoordinatedShutdown (SIGTERM) before the node leaves the cluster: report not-ready,
 * leave the Receptionist so frontends stop choosing it, withdraw its model card, then let in-flight requests finish
 * (up to the drain timeout). Requests that reach it while frontends have not yet seen the deregistration are still
 * served, since the engine only has to be idle for a moment after a grace period.
 */
public final class WorkerDrain {
    private static final Logger log = LoggerFactory.getLogger(WorkerDrain.class);
    private static final Duration GOSSIP_GRACE = Duration.ofSeconds(2);

    private WorkerDrain() {}

    /** @param task the shutdown task's name, one per worker of the node (their drains run side by side) */
    public static void install(ActorSystem<?> system, String task, String servedModelName,
                               ActorRef<WorkerActor.Command> worker, InferenceEngine engine, Runnable withdrawCard,
                               Duration timeout) {
        CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseServiceUnbind(), task,
                () -> CompletableFuture.supplyAsync(() -> {
                    drain(system, servedModelName, worker, engine, withdrawCard, timeout);
                    return Done.getInstance();
                }));
    }

    static void drain(ActorSystem<?> system, String model, ActorRef<WorkerActor.Command> worker, InferenceEngine engine,
                      Runnable withdrawCard, Duration timeout) {
        long start = System.nanoTime();
        NodeHealth.get(system).draining(true);
        system.receptionist().tell(Receptionist.deregister(WorkerActor.serviceKey(model), worker));
        try {
            withdrawCard.run();
        } catch (RuntimeException e) {
            log.warn("could not withdraw the model card (it goes with the lease): {}", e.toString());
        }
        log.info("draining: stopped taking work for '{}', waiting up to {} for in-flight requests", model, timeout);
        long deadline = start + timeout.toNanos();
        long graceEnd = start + GOSSIP_GRACE.toNanos();
        while (System.nanoTime() < deadline) {
            if (System.nanoTime() >= graceEnd && !engine.hasWork()) {
                log.info("drained in {} ms", (System.nanoTime() - start) / 1_000_000);
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        log.warn("drain timeout {} reached with requests still running: leaving anyway", timeout);
    }
}
