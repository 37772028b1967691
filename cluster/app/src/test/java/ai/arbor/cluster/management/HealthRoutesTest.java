package ai.arbor.cluster.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /ready and /alive answer a failed check with 503 and OpenAI's error JSON, naming a drain as such. */
class HealthRoutesTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    ActorSystem system;
    String base;

    @BeforeEach
    void start() throws Exception {
        // arbor-node.conf's checks, less cluster membership (this system is not a cluster member)
        system = ActorSystem.create("health", ConfigFactory.parseString("""
                pekko.management.health-checks {
                  readiness-checks { cluster-membership = "", arbor-node = "ai.arbor.cluster.management.NodeReadyCheck" }
                  liveness-checks { arbor-node = "ai.arbor.cluster.management.NodeAliveCheck" }
                }""").withFallback(ConfigFactory.load()));
        var routes = new HealthRoutes((ExtendedActorSystem) system)
                .routes(ManagementRouteProviderSettings.create(Uri.create("http://127.0.0.1")));
        ServerBinding b = Http.get(system).newServerAt("127.0.0.1", 0).bind(routes).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        base = "http://127.0.0.1:" + ((InetSocketAddress) b.localAddress()).getPort();
    }

    @AfterEach
    void stop() throws Exception {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), r.body());
        return JSON.readTree(r.body()).path("error");
    }

    @Test
    void readinessFollowsTheNodesHealthWith503WhenItFails() throws Exception {
        NodeHealth health = NodeHealth.get(system);
        HttpResponse<String> loading = get("/ready");
        assertEquals(503, loading.statusCode(), loading.body());
        assertEquals("not_ready", error(loading).path("code").asText(), loading.body());
        assertEquals("service_unavailable", error(loading).path("type").asText());
        assertTrue(error(loading).path("message").asText().contains("model is not loaded"), loading.body());
        assertEquals(200, get("/alive").statusCode(), "alive while the model loads");

        health.modelLoaded(true);
        HttpResponse<String> ready = get("/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals("ok", JSON.readTree(ready.body()).path("status").asText());

        health.draining(true);
        HttpResponse<String> draining = get("/ready");
        assertEquals(503, draining.statusCode(), draining.body());
        assertEquals("draining", error(draining).path("code").asText(), draining.body());
        assertEquals(200, get("/alive").statusCode(), "a draining node is still alive");

        health.failed("engine thread died");
        HttpResponse<String> dead = get("/alive");
        assertEquals(503, dead.statusCode(), dead.body());
        assertEquals("not_alive", error(dead).path("code").asText(), dead.body());
        assertEquals("not alive: engine thread died", error(dead).path("message").asText());
    }
}
