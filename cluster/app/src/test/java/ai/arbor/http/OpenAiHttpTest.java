package ai.arbor.http;

import ai.arbor.cluster.serve.SingleNode;
import static ai.arbor.http.SyntheticServers.MODEL;
import static ai.arbor.http.SyntheticServers.get;
import static ai.arbor.http.SyntheticServers.post;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP API over raw HTTP: response shapes, SSE framing and every error case. The synthetic engine echoes the
 * prompt's bytes, so the expected text is known: a chat prompt renders as {@code <user>CONTENT\n<assistant>}.
 */
class OpenAiHttpTest {
    static final ObjectMapper M = new ObjectMapper();
    static SingleNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SyntheticServers.start(Map.of("arbor.frontend.max-body-bytes", "64k"), 0);
        SyntheticServers.awaitHealthy(node);
    }

    @AfterAll
    static void stop() { node.close(); }

    static JsonNode json(HttpResponse<String> r) throws Exception { return M.readTree(r.body()); }

    @Test
    void chatCompletionHasOpenAiShapeAndUsage() throws Exception {
        var r = post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hello"}],"max_tokens":5}""");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode b = json(r);
        assertTrue(b.get("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", b.get("object").asText());
        assertEquals(MODEL, b.get("model").asText());
        JsonNode choice = b.get("choices").get(0);
        assertEquals("assistant", choice.at("/message/role").asText());
        assertEquals("<user", choice.at("/message/content").asText());
        assertEquals("length", choice.get("finish_reason").asText());
        int prompt = "<user>hello\n<assistant>".length();
        assertEquals(prompt, b.at("/usage/prompt_tokens").asInt());
        assertEquals(5, b.at("/usage/completion_tokens").asInt());
        assertEquals(prompt + 5, b.at("/usage/total_tokens").asInt());
        assertEquals(0, b.at("/usage/prompt_tokens_details/cached_tokens").asInt());
    }

    @Test
    void chatStreamIsSseEndingWithDoneAndUsage() throws Exception {
        var r = post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hello"}],"max_completion_tokens":6,
                 "stream":true,"stream_options":{"include_usage":true}}""");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> chunks = sse(r.body());
        assertEquals("assistant", chunks.get(0).at("/choices/0/delta/role").asText());
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (JsonNode c : chunks) {
            assertEquals("chat.completion.chunk", c.get("object").asText());
            if (c.get("choices").size() == 0) {
                usage = c.get("usage");
                continue;
            }
            assertTrue(c.has("usage") && c.get("usage").isNull(), "with include_usage every chunk carries usage: null");
            text.append(c.at("/choices/0/delta/content").asText(""));
            if (!c.at("/choices/0/finish_reason").isNull()) finish = c.at("/choices/0/finish_reason").asText();
        }
        assertEquals("<user>", text.toString());
        assertEquals("length", finish);
        assertNotNull(usage, "usage chunk before [DONE]");
        assertEquals(6, usage.get("completion_tokens").asInt());
        assertEquals(0, chunks.get(chunks.size() - 1).get("choices").size(), "the usage chunk is the last before [DONE]");
    }

    /** Parses an SSE body strictly: only {@code data: } lines separated by blank lines, ending with [DONE]. */
    static List<JsonNode> sse(String body) throws Exception {
        assertTrue(body.endsWith("data: [DONE]\n\n"), "ends with [DONE]: " + body);
        List<JsonNode> out = new ArrayList<>();
        String[] events = body.split("\n\n");
        for (int i = 0; i < events.length; i++) {
            String e = events[i];
            assertTrue(e.startsWith("data: "), "event " + i + ": " + e);
            assertFalse(e.contains("\n"), "one line per event");
            if (i == events.length - 1) assertEquals("data: [DONE]", e);
            else out.add(M.readTree(e.substring(6)));
        }
        return out;
    }

    @Test
    void streamWithoutIncludeUsageHasNoUsageChunk() throws Exception {
        var r = post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"abcdef","max_tokens":3,"stream":true}""");
        List<JsonNode> chunks = sse(r.body());
        StringBuilder text = new StringBuilder();
        for (JsonNode c : chunks) {
            assertEquals("text_completion", c.get("object").asText());
            assertEquals(1, c.get("choices").size());
            assertFalse(c.has("usage"));
            text.append(c.at("/choices/0/text").asText());
        }
        assertEquals("abc", text.toString());
        assertEquals("length", chunks.get(chunks.size() - 1).at("/choices/0/finish_reason").asText());
    }

    @Test
    void completionPromptsAsStringListAndTokenIds() throws Exception {
        JsonNode one = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"hello","max_tokens":4}"""));
        assertEquals("text_completion", one.get("object").asText());
        assertEquals("hell", one.at("/choices/0/text").asText());
        assertEquals(5, one.at("/usage/prompt_tokens").asInt());

        JsonNode two = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":["abc","xyz"],"max_tokens":2}"""));
        assertEquals(2, two.get("choices").size());
        assertEquals("ab", two.at("/choices/0/text").asText());
        assertEquals("xy", two.at("/choices/1/text").asText());
        assertEquals(6, two.at("/usage/prompt_tokens").asInt());
        assertEquals(4, two.at("/usage/completion_tokens").asInt());

        // byte tokenizer: id = byte + 3, so 'H' 'i' = 75 108
        JsonNode ids = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":[75,108],"max_tokens":3}"""));
        assertEquals("HiH", ids.at("/choices/0/text").asText());
        JsonNode lists = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":[[75],[108]],"max_tokens":1}"""));
        assertEquals("H", lists.at("/choices/0/text").asText());
        assertEquals("i", lists.at("/choices/1/text").asText());
    }

    @Test
    void stopStringsCutTheTextAndFinishWithStop() throws Exception {
        JsonNode b = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"hello world","max_tokens":50,"stop":["wor","zzz"]}"""));
        assertEquals("hello ", b.at("/choices/0/text").asText());
        assertEquals("stop", b.at("/choices/0/finish_reason").asText());
        var r = post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"hello world","max_tokens":50,"stop":"lo w","stream":true}""");
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (JsonNode c : sse(r.body())) {
            text.append(c.at("/choices/0/text").asText());
            if (!c.at("/choices/0/finish_reason").isNull()) finish = c.at("/choices/0/finish_reason").asText();
        }
        assertEquals("hel", text.toString());
        assertEquals("stop", finish);
    }

    @Test
    void vllmExtrasStopTokenIdsMinTokensAndIgnoreEos() throws Exception {
        // 'c' is token 102
        JsonNode b = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"abcabc","max_tokens":10,"stop_token_ids":[102],
                 "top_k":5,"min_p":0.1,"repetition_penalty":1.1}"""));
        assertEquals("stop", b.at("/choices/0/finish_reason").asText());
        assertEquals(3, b.at("/usage/completion_tokens").asInt());
        JsonNode m = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"abcabc","max_tokens":10,"stop_token_ids":[102],"min_tokens":5}"""));
        assertEquals(6, m.at("/usage/completion_tokens").asInt(), "min_tokens defers the stop token");
        // EOS (id 1) inside a token-id prompt ends generation unless ignore_eos
        JsonNode eos = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":[100,1],"max_tokens":10}"""));
        assertEquals("stop", eos.at("/choices/0/finish_reason").asText());
        JsonNode ignored = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":[100,1],"max_tokens":10,"ignore_eos":true}"""));
        assertEquals("length", ignored.at("/choices/0/finish_reason").asText());
        assertEquals(10, ignored.at("/usage/completion_tokens").asInt());
    }

    @Test
    void nChoicesAndLogprobs() throws Exception {
        JsonNode b = json(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"n":3,"seed":7,
                 "logprobs":true,"top_logprobs":2}"""));
        assertEquals(3, b.get("choices").size());
        for (int i = 0; i < 3; i++) {
            JsonNode c = b.get("choices").get(i);
            assertEquals(i, c.get("index").asInt());
            JsonNode content = c.at("/logprobs/content");
            assertEquals(3, content.size());
            assertEquals("<", content.get(0).get("token").asText());
            assertEquals(2, content.get(0).get("top_logprobs").size());
            assertTrue(content.get(0).get("logprob").asDouble() <= 0);
        }
        assertEquals(9, b.at("/usage/completion_tokens").asInt());
        JsonNode t = json(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"xy","max_tokens":2,"logprobs":1}"""));
        assertEquals("x", t.at("/choices/0/logprobs/tokens/0").asText());
        assertEquals(2, t.at("/choices/0/logprobs/token_logprobs").size());
        assertEquals(1, t.at("/choices/0/logprobs/top_logprobs/0").size());
        assertEquals(1, t.at("/choices/0/logprobs/text_offset/1").asInt());
    }

    @Test
    void modelsHealthAndLive() throws Exception {
        JsonNode models = json(get(node, "/v1/models"));
        assertEquals("list", models.get("object").asText());
        assertEquals(MODEL, models.at("/data/0/id").asText());
        assertEquals("model", models.at("/data/0/object").asText());
        var health = get(node, "/health");
        assertEquals(200, health.statusCode());
        assertEquals(1, json(health).at("/models/0/workers").asInt());
        assertEquals(200, get(node, "/live").statusCode());
    }

    static void assertError(HttpResponse<String> r, int status, String param, String... messageParts) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        JsonNode e = json(r).get("error");
        assertNotNull(e, r.body());
        for (String f : List.of("message", "type", "param", "code")) assertTrue(e.has(f), "error has " + f);
        if (param != null) assertEquals(param, e.get("param").asText(), r.body());
        for (String part : messageParts) assertTrue(e.get("message").asText().contains(part), r.body());
    }

    @Test
    void malformedOrMistypedRequestsAre400NamingTheParameter() throws Exception {
        assertError(post(node, "/v1/chat/completions", "{\"model\": \"synthetic\", \"messages\": ["), 400, null, "JSON");
        assertError(post(node, "/v1/chat/completions", "[1,2]"), 400, null);
        assertError(post(node, "/v1/chat/completions", """
                {"messages":[{"role":"user","content":"hi"}]}"""), 400, "model");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic"}"""), 400, "messages");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":"hi"}"""), 400, "messages");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"content":"hi"}]}"""), 400, "messages[0].role");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"temperature":3}"""), 400, "temperature");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}"""), 400, "max_tokens");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"max_tokens":0}"""), 400, "max_tokens");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"n":0}"""), 400, "n");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"top_logprobs":3}"""), 400, "top_logprobs");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}"""),
                400, "stream_options");
        assertError(post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"frobnicate":1}"""), 400, "frobnicate");
        assertError(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":"hi","logprobs":21}"""), 400, "logprobs");
        assertError(post(node, "/v1/completions", """
                {"model":"synthetic","prompt":[1,999999]}"""), 400, "prompt");
        assertError(post(node, "/v1/completions", """
                {"model":"synthetic"}"""), 400, "prompt");
        // ignored OpenAI fields are fine
        assertEquals(200, post(node, "/v1/chat/completions", """
                {"model":"synthetic","messages":[{"role":"user","content":"hi"}],"max_tokens":1,"user":"u1",
                 "metadata":{"a":"b"},"store":false}""").statusCode());
    }

    @Test
    void unknownModelIs404() throws Exception {
        assertError(post(node, "/v1/chat/completions", """
                {"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}"""), 404, "model", "gpt-9");
        assertError(post(node, "/v1/completions", """
                {"model":"gpt-9","prompt":"hi"}"""), 404, "model");
    }

    @Test
    void promptPlusMaxTokensOverTheContextIs400WithBothNumbers() throws Exception {
        String prompt = "x".repeat(500);
        assertError(post(node, "/v1/completions", "{\"model\":\"synthetic\",\"prompt\":\"" + prompt
                + "\",\"max_tokens\":100}"), 400, null, "512", "500", "100", "600");
        String longChat = "y".repeat(600);
        assertError(post(node, "/v1/chat/completions", "{\"model\":\"synthetic\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + longChat + "\"}]}"), 400, null, "512");
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        String big = "z".repeat(70_000);
        assertError(post(node, "/v1/completions", "{\"model\":\"synthetic\",\"prompt\":\"" + big + "\"}"), 413, null);
    }

    @Test
    void unknownPathsAndMethods() throws Exception {
        assertError(get(node, "/v1/nothing"), 404, null);
        assertError(get(node, "/v1/chat/completions"), 405, null);
    }
}
