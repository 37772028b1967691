package ai.arbor.cluster.management;

import ai.arbor.actors.metrics.ArborMetrics;
import ai.arbor.actors.metrics.ClusterMetrics;
import ai.arbor.http.MetricsEndpoint;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on every node's management port (workers have no HTTP API port), the same Prometheus text as
 * the frontend's {@code /metrics}. Management starts on every node, so this is also where cluster-membership
 * sampling starts.
 */
public final class MetricsRoutes implements ManagementRouteProvider {
    private final ManagementAuth auth;

    public MetricsRoutes(ExtendedActorSystem system) {
        auth = ManagementAuth.forMetrics(system.settings().config());
        ArborMetrics.start();
        ClusterMetrics.start(Adapter.toTyped(system));
    }

    @Override
    public Route routes(ManagementRouteProviderSettings settings) {
        return Directives.path("metrics", () -> Directives.get(() -> auth.protect(
                () -> Directives.complete(MetricsEndpoint.response()))));
    }
}
