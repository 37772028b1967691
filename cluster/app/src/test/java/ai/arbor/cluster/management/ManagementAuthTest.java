package ai.arbor.cluster.management;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Arbor's management routes take the API keys when keys are set and management-require-key is on. */
class ManagementAuthTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static int status(String url, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
        if (key != null) b.header("Authorization", "Bearer " + key);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    static int[] nodeRouteStatuses(String config) throws Exception {
        return statuses(config, "/arbor/node", "sk-mgmt");
    }

    /** GET {@code path} without a key, with a wrong one and with each of {@code keys}, on Arbor's management routes. */
    static int[] statuses(String config, String path, String... keys) throws Exception {
        // MetricsRoutes samples cluster membership: a cluster provider, never joined, on a free port
        ActorSystem system = ActorSystem.create("m", ConfigFactory.parseString(config)
                .withFallback(ConfigFactory.parseString(
                        "pekko.actor.provider = cluster\npekko.remote.artery.canonical.port = 0"))
                .withFallback(ConfigFactory.load()));
        try {
            var settings = ManagementRouteProviderSettings.create(Uri.create("http://127.0.0.1"));
            var routes = Directives.concat(new NodeRoutes((ExtendedActorSystem) system).routes(settings),
                    new MetricsRoutes((ExtendedActorSystem) system).routes(settings));
            ServerBinding b = Http.get(system).newServerAt("127.0.0.1", 0).bind(routes).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            String url = "http://127.0.0.1:" + ((InetSocketAddress) b.localAddress()).getPort() + path;
            int[] s = new int[keys.length + 2];
            s[0] = status(url, null);
            s[1] = status(url, "sk-wrong");
            for (int i = 0; i < keys.length; i++) s[i + 2] = status(url, keys[i]);
            return s;
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void withKeysTheNodeRouteNeedsOne() throws Exception {
        assertArrayEquals(new int[] {401, 401, 200}, nodeRouteStatuses("arbor.frontend.api-key = sk-mgmt"));
    }

    @Test
    void itsOwnSettingOpensItAndWithoutKeysItIsOpen() throws Exception {
        assertArrayEquals(new int[] {200, 200, 200}, nodeRouteStatuses(
                "arbor.frontend { api-key = sk-mgmt, management-require-key = false }"));
        assertArrayEquals(new int[] {200, 200, 200}, nodeRouteStatuses(""));
    }

    @Test
    void theScrapeKeyOpensMetricsButNotTheNodeRoute(@TempDir Path dir) throws Exception {
        Path scrape = Files.writeString(dir.resolve("token"), "sk-scrape\n");
        String config = "arbor.frontend { api-key = sk-mgmt, metrics-key-file = \"" + scrape + "\" }";
        assertArrayEquals(new int[] {401, 401, 200, 200}, statuses(config, "/metrics", "sk-mgmt", "sk-scrape"));
        assertArrayEquals(new int[] {401, 401, 200, 401}, statuses(config, "/arbor/node", "sk-mgmt", "sk-scrape"));
    }

    @Test
    void aScrapeKeyAloneClosesMetricsOnly(@TempDir Path dir) throws Exception {
        // a worker: no API keys, only Prometheus's key
        Path scrape = Files.writeString(dir.resolve("token"), "sk-scrape");
        String config = "arbor.frontend.metrics-key-file = \"" + scrape + "\"";
        assertArrayEquals(new int[] {401, 401, 200}, statuses(config, "/metrics", "sk-scrape"));
        assertArrayEquals(new int[] {200, 200, 200}, statuses(config, "/arbor/node", "sk-scrape"));
    }
}
