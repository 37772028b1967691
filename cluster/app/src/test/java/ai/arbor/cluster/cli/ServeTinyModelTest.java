package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.protocol.EngineStats;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionCreateParams;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code arbor serve} with the real engine on models/tiny-qwen2: the lab document's curl requests, the OpenAI SDK,
 * seeds, prefix-cache hits in usage, and a disconnect freeing KV blocks.
 */
class ServeTinyModelTest {
    static final ObjectMapper M = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static ServeCommand.Running running;
    static String url;
    static OpenAIClient client;

    static TinyServe server;

    @BeforeAll
    static void start() {
        server = TinyServe.start("tiny-qwen2");
        running = server.running();
        url = server.url();
        client = server.client();
    }

    @AfterAll
    static void stop() { server.close(); }

    static JsonNode post(String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return M.readTree(r.body());
    }

    @Test
    void labDocumentCurlRequests() throws Exception {
        // the lab's `curl .../v1/chat/completions` with the model name adjusted, and `curl .../v1/models`
        JsonNode chat = post("/v1/chat/completions", """
                {
                  "model": "tiny-qwen2",
                  "messages": [{"role": "user", "content": "Explain Grove in one sentence"}],
                  "max_tokens": 50
                }""");
        String content = chat.at("/choices/0/message/content").asText();
        assertFalse(content.isEmpty());
        assertTrue(chat.at("/usage/completion_tokens").asInt() <= 50);
        assertTrue(chat.at("/usage/prompt_tokens").asInt() > 10, "the chat template wraps the message");
        HttpResponse<String> models = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("tiny-qwen2", M.readTree(models.body()).at("/data/0/id").asText());
    }

    @Test
    void greedyStreamingAndNonStreamingAgreeThroughTheSdk() {
        var params = ChatCompletionCreateParams.builder().model("tiny-qwen2").addUserMessage("Tell me a fortune")
                .temperature(0.0).maxCompletionTokens(24).build();
        ChatCompletion whole = client.chat().completions().create(params);
        StringBuilder streamed = new StringBuilder();
        try (var s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
        }
        assertEquals(whole.choices().get(0).message().content().orElseThrow(), streamed.toString());
    }

    @Test
    void equalSeedsGiveEqualSamplesAndChoicesDiffer() throws Exception {
        String body = """
                {"model":"tiny-qwen2","prompt":"The secret of life is","max_tokens":16,"temperature":1.0,"seed":42,"n":2}""";
        JsonNode a = post("/v1/completions", body);
        JsonNode b = post("/v1/completions", body);
        assertEquals(a.at("/choices/0/text"), b.at("/choices/0/text"));
        assertEquals(a.at("/choices/1/text"), b.at("/choices/1/text"));
        assertEquals(2, a.get("choices").size());
    }

    @Test
    void repeatedPromptReportsCachedTokens() throws Exception {
        String prompt = "A long shared prefix that fills more than one block of sixteen tokens, so that the second"
                + " request finds it in the prefix cache of the engine and reports cached tokens.";
        String body = "{\"model\":\"tiny-qwen2\",\"prompt\":\"" + prompt + "\",\"max_tokens\":2}";
        post("/v1/completions", body);
        JsonNode second = post("/v1/completions", body);
        int cached = second.at("/usage/prompt_tokens_details/cached_tokens").asInt();
        assertTrue(cached >= 16, "cached " + cached + " of " + second.at("/usage/prompt_tokens").asInt());
    }

    @Test
    void logprobsAndStopStrings() {
        var c = client.completions().create(CompletionCreateParams.builder().model("tiny-qwen2").prompt("Hello")
                .maxTokens(4).logprobs(2L).temperature(0.0).build());
        var lp = c.choices().get(0).logprobs().orElseThrow();
        assertEquals(4, lp.tokens().orElseThrow().size());
        assertEquals(String.join("", lp.tokens().orElseThrow()), c.choices().get(0).text());
        String full = client.completions().create(CompletionCreateParams.builder().model("tiny-qwen2").prompt("Hello")
                .maxTokens(12).temperature(0.0).build()).choices().get(0).text();
        String stop = full.substring(3, 5);
        var stopped = client.completions().create(CompletionCreateParams.builder().model("tiny-qwen2").prompt("Hello")
                .maxTokens(12).temperature(0.0).stop(stop).build()).choices().get(0);
        assertEquals(full.substring(0, full.indexOf(stop)), stopped.text());
        assertEquals("stop", stopped.finishReason().toString());
    }

    @Test
    void disconnectingClientFreesItsKvBlocks() throws Exception {
        long generatedBefore = running.model().engine().stats().generatedTokens(); // the server is shared by the class
        // Eight choices of 2000 tokens: far more work than the engine can finish before the client's disconnect reaches
        // it (one 900-token choice once completed before that on a fast machine).
        int choices = 8, maxTokens = 2000;
        Socket s = new Socket("127.0.0.1", running.node().port());
        String body = "{\"model\":\"tiny-qwen2\",\"prompt\":\"Once upon a time\",\"max_tokens\":" + maxTokens
                + ",\"n\":" + choices + ",\"ignore_eos\":true,\"stream\":true}";
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        String line;
        int events = 0;
        while ((line = in.readLine()) != null && events < 5) if (line.startsWith("data: ")) events++;
        assertEquals(5, events, "the stream started");
        // The engine hands a step's tokens to the sinks before it publishes that step's stats, so a fast client can
        // read the first tokens while the stats still show the idle engine: wait for the stats to catch up.
        long seen = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (running.model().engine().stats().kvBlocksActive() == 0 && System.nanoTime() < seen) Thread.sleep(1);
        assertTrue(running.model().engine().stats().kvBlocksActive() > 0, "blocks held while generating");
        s.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        EngineStats st = running.model().engine().stats();
        while ((st.runningRequests() > 0 || st.kvBlocksActive() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            st = running.model().engine().stats();
        }
        assertEquals(0, st.runningRequests());
        assertEquals(0, st.kvBlocksActive(), "the aborted request's KV blocks are free");
        long generated = st.generatedTokens() - generatedBefore;
        assertTrue(generated < (long) choices * maxTokens, "stopped early: " + generated + " tokens generated");
    }
}
