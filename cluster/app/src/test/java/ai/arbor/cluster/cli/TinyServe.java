package ai.arbor.cluster.cli;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import java.nio.file.Path;
import java.util.Map;

/** {@code arbor serve} on one of models/tiny-*, with an OpenAI SDK client pointed at it. */
record TinyServe(ServeCommand.Running running, String url, OpenAIClient client) implements AutoCloseable {
    static TinyServe start(String model) {
        return start(model, Map.of());
    }

    /** With further settings (HOCON paths) on top. */
    static TinyServe start(String model, Map<String, Object> settings) {
        Map<String, Object> all = new java.util.HashMap<>(Map.of("arbor.model", Path.of("..", "..", "models", model).toString(),
                "arbor.port", 0, "arbor.engine.kv-cache-memory", "64MiB"));
        all.putAll(settings);
        ArborSettings s = ArborSettings.from(ArborConfig.load(all, null, Map.of()));
        ServeCommand.Running running = ServeCommand.start(s);
        String url = running.node().url();
        return new TinyServe(running, url, OpenAIOkHttpClient.builder().baseUrl(url + "/v1").apiKey("unused").maxRetries(0).build());
    }

    @Override
    public void close() {
        client.close();
        running.close();
    }
}
