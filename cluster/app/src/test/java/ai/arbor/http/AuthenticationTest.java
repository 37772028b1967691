package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.UnauthorizedException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * API keys with the official OpenAI SDK: a wrong or missing key is OpenAI's 401 ({@code invalid_api_key}), a right
 * one is served, and the request log names the key without showing it.
 */
class AuthenticationTest {
    static final String ALICE_KEY = "sk-alice-0123456789abcdef";
    static final String CI_KEY = "sk-ci-fedcba9876543210";
    static final String SCRAPE_KEY = "scrape-5c8f0e2a9d7b41c3";
    @TempDir
    static Path dir;
    static SingleNode node;

    @BeforeAll
    static void start() throws Exception {
        Path keys = dir.resolve("keys");
        Files.writeString(keys, "# name key\nalice " + ALICE_KEY + "\n\nci\t" + CI_KEY + "\n");
        Path scrape = dir.resolve("scrape-token");
        Files.writeString(scrape, SCRAPE_KEY + "\n"); // as a Secret's value is often written
        node = SyntheticServers.start(Map.of("arbor.frontend.api-keys-file", keys.toString(),
                "arbor.frontend.api-key", "sk-single", "arbor.frontend.metrics-key-file", scrape.toString()), 0);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (SyntheticServers.get(node, "/health").statusCode() != 200 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stop() { node.close(); }

    static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl(node.url() + "/v1").apiKey(key).maxRetries(0).build();
    }

    static Completion complete(OpenAIClient c) {
        return c.completions().create(CompletionCreateParams.builder().model("synthetic")
                .prompt("hello").maxTokens(3).build());
    }

    @Test
    void aWrongKeyIs401InvalidApiKey() {
        OpenAIClient c = client("sk-wrong");
        UnauthorizedException e = assertThrows(UnauthorizedException.class, () -> complete(c));
        assertEquals(401, e.statusCode());
        assertEquals("invalid_api_key", e.code().orElseThrow());
        assertFalse(e.getMessage().contains("sk-wrong"), "the key is not echoed: " + e.getMessage());
        assertThrows(UnauthorizedException.class, () -> c.models().list());
        c.close();
    }

    @Test
    void rightKeysAreServedAndNamedInTheRequestLog() {
        Logger log = (Logger) LoggerFactory.getLogger("ai.arbor.requests");
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        Level level = log.getLevel();
        log.setLevel(Level.INFO);
        log.addAppender(seen);
        try {
            for (String key : new String[] {ALICE_KEY, CI_KEY, "sk-single"}) {
                OpenAIClient c = client(key);
                assertEquals(3, complete(c).usage().orElseThrow().completionTokens());
                assertFalse(c.models().list().data().isEmpty());
                c.close();
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (seen.list.size() < 3 && System.nanoTime() < deadline) Thread.onSpinWait();
            String lines = String.join("\n", seen.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
            assertTrue(lines.contains("client=alice"), lines);
            assertTrue(lines.contains("client=ci"), lines);
            assertTrue(lines.contains("client=default"), lines);
            assertFalse(lines.contains(ALICE_KEY) || lines.contains(CI_KEY) || lines.contains("sk-single"), lines);
        } finally {
            log.detachAppender(seen);
            log.setLevel(level);
        }
    }

    @Test
    void metricsNeedAKeyHealthAndLiveDoNot() throws Exception {
        assertEquals(401, SyntheticServers.get(node, "/metrics").statusCode());
        var withKey = SyntheticServers.HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + "/metrics"))
                .header("Authorization", "Bearer " + CI_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, withKey.statusCode());
        assertEquals(200, SyntheticServers.get(node, "/health").statusCode());
        assertEquals(200, SyntheticServers.get(node, "/live").statusCode());
        var noBearer = SyntheticServers.HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + "/v1/models"))
                .header("Authorization", "Basic " + CI_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        OpenAiHttpTest.assertError(noBearer, 401, null, "Bearer");
        assertEquals("Bearer", noBearer.headers().firstValue("WWW-Authenticate").orElse(""));
    }

    @Test
    void theScrapeKeyOpensMetricsAndNothingElse() throws Exception {
        var metrics = SyntheticServers.HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + "/metrics"))
                .header("Authorization", "Bearer " + SCRAPE_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        var models = SyntheticServers.HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + "/v1/models"))
                .header("Authorization", "Bearer " + SCRAPE_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        OpenAiHttpTest.assertError(models, 401, null, "Incorrect API key");
        assertThrows(UnauthorizedException.class, () -> complete(client(SCRAPE_KEY)));
    }
}
