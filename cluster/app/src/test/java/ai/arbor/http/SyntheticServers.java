package ai.arbor.http;

import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Test servers over the synthetic engine and the byte tokenizer: the whole serving path, no model files. */
final class SyntheticServers {
    static final String MODEL = "synthetic";
    static final int MAX_MODEL_LEN = 512;

    private SyntheticServers() {}

    static SingleNode start(Map<String, Object> overrides, long stepNanos) {
        Map<String, Object> o = new HashMap<>(Map.of("arbor.port", 0, "arbor.served-model-name", MODEL,
                "arbor.device", "synthetic"));
        o.putAll(overrides);
        ArborSettings s = ArborSettings.from(ArborConfig.load(o, null, Map.of()));
        ByteTokenizer tok = new ByteTokenizer();
        return SingleNode.start(s, new SingleNode.ModelSpec(tok, MAX_MODEL_LEN, SamplingDefaults.none()),
                new SyntheticEngine(MAX_MODEL_LEN, 16, tok.eosTokenIds(), stepNanos));
    }

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static HttpResponse<String> post(SingleNode node, String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(SingleNode node, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A started synthetic server and an official OpenAI SDK client of it, closed together. */
    record Sdk(SingleNode node, com.openai.client.OpenAIClient client) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
            node.close();
        }
    }

    static Sdk sdk(Map<String, Object> overrides) throws Exception {
        SingleNode node = start(overrides, 0);
        awaitHealthy(node);
        return new Sdk(node, com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl(node.url() + "/v1")
                .apiKey("unused").maxRetries(0).build());
    }

    /** Waits until /health says a worker is ready (the worker registers just after the port is bound). */
    static void awaitHealthy(SingleNode node) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (get(node, "/health").statusCode() != 200) {
            if (System.nanoTime() > deadline) throw new AssertionError("server never became healthy");
            Thread.sleep(20);
        }
    }
}
