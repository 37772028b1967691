package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.frontend.Frontend;
import ai.arbor.actors.router.RouterActor;
import ai.arbor.actors.router.select.WorkerSelectors;
import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.Test;

/** /health is 503 with a reason until a worker for the model registers, then 200; /live is 200 throughout. */
class HealthTest {

    @Test
    void unhealthyUntilAWorkerIsReady() throws Exception {
        ActorTestKit kit = ActorTestKit.create();
        try {
            ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of()));
            var router = kit.spawn(RouterActor.create("m", WorkerSelectors.create("round-robin"), Duration.ofMillis(300)));
            ModelRegistry models = new ModelRegistry();
            ByteTokenizer tok = new ByteTokenizer();
            models.add(new ServedModel("m", new Frontend(kit.system(), router, tok, Duration.ofMillis(300), 0), 256,
                    SamplingDefaults.none(), 0));
            OpenAiServer server = new OpenAiServer(kit.system(), models, s.frontend());
            ServerBinding binding = server.bind("127.0.0.1", 0).toCompletableFuture().get();
            String url = "http://127.0.0.1:" + binding.localAddress().getPort();

            var health = get(url + "/health");
            assertEquals(503, health.statusCode());
            String reason = new ObjectMapper().readTree(health.body()).at("/error/message").asText();
            assertTrue(reason.contains("no worker for model 'm'"), reason);
            assertEquals(200, get(url + "/live").statusCode());

            // a request in the meantime waits for a worker, then fails with 503 in OpenAI's shape
            var r = SyntheticServers.HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"prompt\":\"hi\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            OpenAiHttpTest.assertError(r, 503, null, "no worker");

            kit.spawn(WorkerActor.create("w", "m", new SyntheticEngine(256, 16, tok.eosTokenIds())));
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (get(url + "/health").statusCode() != 200 && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(200, get(url + "/health").statusCode());
            binding.unbind().toCompletableFuture().get();
        } finally {
            kit.shutdownTestKit();
        }
    }

    static HttpResponse<String> get(String url) throws Exception {
        return SyntheticServers.HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
