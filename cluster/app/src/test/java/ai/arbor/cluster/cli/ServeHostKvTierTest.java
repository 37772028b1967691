package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code arbor serve --kv-host-memory} on models/tiny-qwen2 with a primary KV pool of 40 blocks: after other prompts
 * pushed a document's blocks out of the pool, asking about the document again onboards them from host memory, and the
 * HTTP usage counts them as cached tokens.
 */
class ServeHostKvTierTest {
    static final ObjectMapper M = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static JsonNode chat(String url, String content) throws Exception {
        String body = M.writeValueAsString(Map.of("model", "tiny-qwen2", "max_tokens", 4,
                "messages", new Object[] {Map.of("role", "user", "content", content)}));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return M.readTree(r.body());
    }

    @Test
    void aDocumentPushedOutOfThePrimaryPoolIsOnboardedFromHostMemory() throws Exception {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model", Path.of("..", "..", "models", "tiny-qwen2")
                .toString(), "arbor.port", 0, "arbor.engine.num-kv-blocks", 40, "arbor.engine.max-model-len", 600,
                "arbor.engine.kv-host-memory", "16MiB"), null, Map.of()));
        try (ServeCommand.Running running = ServeCommand.start(s)) {
            String url = running.node().url();
            String document = "The archive holds letters, maps and ledgers from the harbour office. ".repeat(15);
            JsonNode first = chat(url, document + "What is in drawer one?");
            int prompt = first.at("/usage/prompt_tokens").asInt();
            assertTrue(prompt > 16 * 12, "a document of more than 12 blocks, got " + prompt);
            for (int i = 0; i < 3; i++) {
                chat(url, ("Unrelated text number " + i + " about ships, weather and tides. ").repeat(20));
            }
            var stats = running.model().engine().stats();
            assertTrue(stats.hostKvBlocks() > 0, "evicted blocks went to host memory");
            long onboardedBefore = stats.onboardedHostBlocks();

            JsonNode again = chat(url, document + "What is in drawer two?");
            int cached = again.at("/usage/prompt_tokens_details/cached_tokens").asInt();
            assertTrue(cached >= prompt - 32, "the document came back as cached tokens: " + cached + " of " + prompt);
            assertTrue(running.model().engine().stats().onboardedHostBlocks() > onboardedBefore, "from the host tier");
        }
    }
}
