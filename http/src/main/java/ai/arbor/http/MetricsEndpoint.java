package ai.arbor.http;

import ai.arbor.actors.metrics.ArborMetrics;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;

/**
 * {@code GET /metrics}: the Prometheus text exposition of this JVM's Kamon registry (frontend, router and worker
 * metrics alike, each labelled with what it belongs to).
 */
public final class MetricsEndpoint {
    /** Prometheus text format 0.0.4. */
    static final ContentType PROMETHEUS_TEXT = ContentTypes.create(
            MediaTypes.customWithFixedCharset("text", "plain", HttpCharsets.UTF_8,
                    java.util.Map.of("version", "0.0.4"), false));

    private MetricsEndpoint() {}

    /** Starts metrics for this JVM (idempotent) and serves them on {@code server}. */
    public static void install(OpenAiServer server, ClassicActorSystemProvider system) {
        ArborMetrics.start();
        server.addEndpoint("GET", "/metrics", request -> {
            request.discardEntityBytes(system);
            return CompletableFuture.completedFuture(response());
        });
    }

    /** The current scrape as a response; usable by any Pekko HTTP route (the management port's too). */
    public static HttpResponse response() {
        return HttpResponse.create().withStatus(200)
                .withEntity(HttpEntities.create(PROMETHEUS_TEXT, ArborMetrics.scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
}
