package ai.arbor.cluster.management;

import ai.arbor.config.ApiKeys;
import ai.arbor.config.HttpSecurity;
import ai.arbor.http.ApiError;
import ai.arbor.http.Authentication;
import com.typesafe.config.Config;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The API keys of {@code arbor.frontend} in front of Arbor's own management routes, when
 * {@code management-require-key} is on: the same Bearer check and OpenAI-shaped 401 as the HTTP API. Pekko's own
 * management routes are not wrapped: other nodes call {@code /bootstrap} and probes call {@code /ready} without a key.
 */
final class ManagementAuth {
    private final Authentication auth;

    private ManagementAuth(Authentication auth) { this.auth = auth; }

    /** From the actor system's config; open when it has no {@code arbor.frontend} block or the setting is off. */
    static ManagementAuth of(Config config) { return of(config, HttpSecurity::apiKeys); }

    /** As {@link #of(Config)} for {@code /metrics}, which also takes the scrape key ({@code metrics-key-file}). */
    static ManagementAuth forMetrics(Config config) { return of(config, HttpSecurity::metricsKeys); }

    private static ManagementAuth of(Config config, Function<HttpSecurity, ApiKeys> accepted) {
        if (!config.hasPath("arbor.frontend")) return new ManagementAuth(null);
        HttpSecurity s = HttpSecurity.from(config.getConfig("arbor.frontend"));
        ApiKeys keys = accepted.apply(s);
        return new ManagementAuth(s.managementRequireKey() && keys.required() ? new Authentication(keys) : null);
    }

    Route protect(Supplier<Route> inner) {
        if (auth == null) return inner.get();
        return Directives.extractRequest(request -> {
            try {
                auth.authenticate(request);
            } catch (ApiError e) {
                return Directives.complete(HttpResponse.create().withStatus(e.status())
                        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer"))
                        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, e.toJson().toString())));
            }
            return inner.get();
        });
    }
}
