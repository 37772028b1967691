package ai.arbor.cluster.management;

import ai.arbor.http.ApiError;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.HealthCheckSettings;
import org.apache.pekko.management.javadsl.CheckResult;
import org.apache.pekko.management.javadsl.HealthChecks;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code /ready}, {@code /alive} and {@code /startup} on the management port, in place of Pekko Management's own
 * routes (turned off in arbor-node.conf): the same checks ({@code pekko.management.health-checks}, ours and the
 * cluster-membership one), but a failing check is 503 with OpenAI's error JSON, where Pekko answers 500 in plain text.
 * 503 says "not now, try another" to load balancers and to people reading probe logs; 500 reads as a crash.
 */
public final class HealthRoutes implements ManagementRouteProvider {
    private static final HttpResponse OK = HttpResponse.create()
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"status\":\"ok\"}"));

    private final HealthCheckSettings settings;
    private final HealthChecks checks;
    private final NodeHealth health;

    public HealthRoutes(ExtendedActorSystem system) {
        this.settings = HealthCheckSettings.create(system.settings().config().getConfig("pekko.management.health-checks"));
        this.checks = new HealthChecks(system, settings);
        this.health = NodeHealth.get(system);
    }

    @Override
    public Route routes(ManagementRouteProviderSettings routeSettings) {
        return Directives.concat(
                check(settings.readinessPath(), checks::readyResult, "not_ready"),
                check(settings.livenessPath(), checks::aliveResult, "not_alive"),
                check(settings.startupPath(), checks::startupResult, "not_started"));
    }

    private Route check(String path, Supplier<CompletionStage<CheckResult>> run, String code) {
        return Directives.path(PathMatchers.separateOnSlashes(path), () -> Directives.get(() ->
                Directives.onComplete(run, result -> Directives.complete(
                        result.isSuccess() && result.get().isSuccess() ? OK
                                : failed(code, result.isSuccess() ? result.get().failure().orElse("failed")
                                        : "health check failed: " + result.failed().get())))));
    }

    private HttpResponse failed(String code, String checksSaid) {
        boolean readiness = "not_ready".equals(code);
        ApiError e;
        if (readiness && health.alive() && health.draining()) {
            e = unavailable("not ready: draining (requests in flight are finishing; send new ones to another node)",
                    "draining");
        } else if (!health.alive()) {
            // Pekko names our checks by an anonymous class: say what our part of the node lacks instead
            e = unavailable((readiness ? "not ready: " : "not alive: ") + health.problem(), code);
        } else if (readiness && !health.modelLoaded()) {
            e = unavailable("not ready: the model is not loaded yet (a frontend: its HTTP server is not bound yet)", code);
        } else {
            e = unavailable(checksSaid, code);
        }
        return HttpResponse.create().withStatus(e.status())
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, e.toJson().toString()));
    }

    private static ApiError unavailable(String message, String code) {
        return new ApiError(503, "service_unavailable", message, null, code);
    }
}
