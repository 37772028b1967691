package ai.arbor.cluster.node;

import ai.arbor.cluster.management.NodeHealth;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.ServerBinding;
import ai.arbor.http.InFlightResponses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A frontend's graceful exit, run by CoordinatedShutdown (SIGTERM, a Kubernetes scale-down) before the node leaves
 * the cluster: readiness fails at once (load balancers stop sending), the listening socket closes (no new
 * connections), requests that still arrive on open connections get 503 with {@code Connection: close}, idle
 * connections close, and requests in flight — streams included — run to their end, for up to the drain timeout;
 * whatever still runs then is cut. Only
 * then do the later phases leave the cluster and end the process, so the workers serving those streams stay reachable
 * until they finish.
 */
public final class FrontendDrain {
    private static final Logger log = LoggerFactory.getLogger(FrontendDrain.class);

    private FrontendDrain() {}

    public static void install(ActorSystem<?> system, ServerBinding binding, InFlightResponses inFlight, Duration timeout) {
        CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "arbor-frontend-drain",
                () -> {
                    long start = System.nanoTime();
                    NodeHealth.get(system).draining(true);
                    inFlight.refuseNew();
                    log.info("draining: not ready, no new connections, waiting up to {} for {} responses in flight",
                            timeout, inFlight.count());
                    return binding.unbind()
                            .thenCompose(unbound -> inFlight.idle(timeout))
                            .thenCompose(idle -> {
                                int left = inFlight.count();
                                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                                if (left == 0) {
                                    // every connection closes by itself once its last response is sent: Pekko's
                                    // terminate would abort them with the ends of streams still in their buffers
                                    log.info("drained in {} ms", ms);
                                    return CompletableFuture.<Done>completedFuture(Done.getInstance());
                                }
                                log.warn("drain timeout {} reached with {} responses in flight: cutting them", timeout, left);
                                return binding.terminate(Duration.ofSeconds(1)).thenApply(terminated -> Done.getInstance());
                            });
                });
    }
}
