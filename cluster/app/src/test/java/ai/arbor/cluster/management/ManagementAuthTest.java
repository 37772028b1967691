package ai.arbor.cluster.management;

import static org.junit.jupiter.api.Assertions.*;

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
import org.junit.jupiter.api.Test;

/** Arbor's management routes take the API keys when keys are set and management-require-key is on. */
class ManagementAuthTest {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static int status(String url, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
        if (key != null) b.header("Authorization", "Bearer " + key);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    static int[] nodeRouteStatuses(String config) throws Exception {
        ActorSystem system = ActorSystem.create("m", ConfigFactory.parseString(config)
                .withFallback(ConfigFactory.load()));
        try {
            var routes = new NodeRoutes((ExtendedActorSystem) system)
                    .routes(ManagementRouteProviderSettings.create(Uri.create("http://127.0.0.1")));
            ServerBinding b = Http.get(system).newServerAt("127.0.0.1", 0).bind(routes).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            String url = "http://127.0.0.1:" + ((InetSocketAddress) b.localAddress()).getPort() + "/arbor/node";
            return new int[] {status(url, null), status(url, "sk-wrong"), status(url, "sk-mgmt")};
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
}
