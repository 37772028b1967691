package ai.arbor.cluster.management;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * Our own management route, {@code GET /arbor/node}: this node's health flags (ready, alive, model loaded, draining)
 * and details (roles, address, the engine's running/waiting requests and token counters on workers), as JSON.
 */
public final class NodeRoutes implements ManagementRouteProvider {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final NodeHealth health;
    private final ManagementAuth auth;

    public NodeRoutes(ExtendedActorSystem system) {
        this.health = NodeHealth.get(system);
        this.auth = ManagementAuth.of(system.settings().config());
    }

    @Override
    public Route routes(ManagementRouteProviderSettings settings) {
        return Directives.pathPrefix("arbor", () -> Directives.path("node", () -> Directives.get(() -> auth.protect(() -> {
            try {
                return Directives.complete(HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(health.snapshot())));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }))));
    }
}
