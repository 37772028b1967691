package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStreamEvent;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code /v1/responses} through the official SDK (whole, streamed and assembled by its accumulator, with a function
 * tool), vLLM's {@code /tokenize}, {@code /detokenize} and {@code /version}, and the errors of {@code /v1/embeddings}
 * where the engine has none, over the synthetic echo engine.
 */
class ResponsesAndTokenizeTest {
    static final ObjectMapper M = new ObjectMapper();
    static SyntheticServers.Sdk server;
    static SingleNode node;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = SyntheticServers.sdk(Map.of("arbor.chat.tool-call-parser", "hermes"));
        node = server.node();
        client = server.client();
    }

    @AfterAll
    static void stop() { server.close(); }

    static String outputText(Response r) {
        StringBuilder sb = new StringBuilder();
        for (ResponseOutputItem item : r.output()) {
            item.message().ifPresent(m -> m.content().forEach(c -> c.outputText().ifPresent(t -> sb.append(t.text()))));
        }
        return sb.toString();
    }

    @Test
    void textInAndOut() {
        Response r = client.responses().create(ResponseCreateParams.builder().model(SyntheticServers.MODEL)
                .instructions("be brief").input("hello").maxOutputTokens(9).build());
        // the echo of the rendered prompt: the instructions became the system message
        assertEquals("<system>b", outputText(r));
        assertEquals(com.openai.models.responses.ResponseStatus.INCOMPLETE, r.status().orElseThrow());
        assertEquals(9, r.usage().orElseThrow().outputTokens());
        assertTrue(r.id().startsWith("resp_"));
    }

    @Test
    void streamingEventsAssemble() {
        ResponseAccumulator acc = ResponseAccumulator.create();
        List<String> types = new ArrayList<>();
        StringBuilder deltas = new StringBuilder();
        try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(ResponseCreateParams.builder()
                .model(SyntheticServers.MODEL).input("stream me").maxOutputTokens(12).build())) {
            s.stream().forEach(e -> {
                acc.accumulate(e);
                types.add(com.openai.core.ObjectMappers.jsonMapper().valueToTree(e).get("type").asText());
                e.outputTextDelta().ifPresent(d -> deltas.append(d.delta()));
            });
        }
        assertEquals("response.created", types.get(0));
        assertEquals("response.in_progress", types.get(1));
        assertTrue(types.contains("response.output_item.added"), types.toString());
        assertTrue(types.contains("response.output_text.done"), types.toString());
        assertEquals("response.incomplete", types.get(types.size() - 1));
        Response whole = acc.response();
        assertEquals("<user>stream", deltas.toString());
        assertEquals(deltas.toString(), outputText(whole));
    }

    static ResponseCreateParams callingRequest() {
        String call = "<tool_call>{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}</tool_call>";
        return ResponseCreateParams.builder().model(SyntheticServers.MODEL)
                .input(call).addTool(FunctionTool.builder().name("get_time").strict(false)
                        .parameters(FunctionTool.Parameters.builder()
                                .putAdditionalProperty("type", JsonValue.from("object")).build()).build())
                .maxOutputTokens(400).putAdditionalBodyProperty("stop", JsonValue.from(List.of("\n<assistant>")))
                .build();
    }

    static void assertCalledGetTime(Response r) throws Exception {
        ResponseFunctionToolCall fc = r.output().stream().flatMap(i -> i.functionCall().stream()).findFirst().orElseThrow();
        assertEquals("get_time", fc.name());
        assertEquals(M.readTree("{\"tz\": \"UTC\"}"), M.readTree(fc.arguments()));
        assertTrue(fc.callId().startsWith("call_"));
        assertEquals("<user>", outputText(r));
    }

    @Test
    void functionToolCall() throws Exception {
        assertCalledGetTime(client.responses().create(callingRequest()));
        ResponseAccumulator acc = ResponseAccumulator.create();
        StringBuilder argumentDeltas = new StringBuilder();
        try (StreamResponse<ResponseStreamEvent> s = client.responses().createStreaming(callingRequest())) {
            s.stream().forEach(e -> {
                acc.accumulate(e);
                e.functionCallArgumentsDelta().ifPresent(d -> argumentDeltas.append(d.delta()));
            });
        }
        assertEquals(M.readTree("{\"tz\": \"UTC\"}"), M.readTree(argumentDeltas.toString()));
        assertCalledGetTime(acc.response());
    }

    @Test
    void previousResponseIdIsA400() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.responses().create(
                ResponseCreateParams.builder().model(SyntheticServers.MODEL).input("x")
                        .previousResponseId("resp_123").build()));
        assertEquals("previous_response_id", e.param().orElseThrow());
    }

    @Test
    void embeddingsFromAnEngineWithoutThemAreAClear400() throws Exception {
        // the synthetic engine, like the CUDA backend, computes no hidden states
        HttpResponse<String> r = SyntheticServers.post(node, "/v1/embeddings",
                "{\"model\": \"synthetic\", \"input\": [\"a\", \"b\"]}");
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = M.readTree(r.body()).get("error");
        assertEquals("unsupported", e.get("code").asText());
        assertTrue(e.get("message").asText().contains("does not compute embeddings"), r.body());
        HttpResponse<String> dims = SyntheticServers.post(node, "/v1/embeddings",
                "{\"model\": \"synthetic\", \"input\": \"a\", \"dimensions\": 8}");
        assertEquals("dimensions", M.readTree(dims.body()).at("/error/param").asText());
        HttpResponse<String> empty = SyntheticServers.post(node, "/v1/embeddings",
                "{\"model\": \"synthetic\", \"input\": [\"a\", \"\"]}");
        assertEquals(400, empty.statusCode());
        assertTrue(M.readTree(empty.body()).at("/error/message").asText().contains("input[1] is empty"), empty.body());
    }

    static JsonNode post(String path, String body) throws Exception {
        HttpResponse<String> r = SyntheticServers.post(node, path, body);
        assertEquals(200, r.statusCode(), r.body());
        return M.readTree(r.body());
    }

    @Test
    void tokenizeDetokenizeRoundTrip() throws Exception {
        String text = "héllo wörld ☀ 🙂";
        JsonNode t = post("/tokenize", "{\"prompt\": " + M.writeValueAsString(text)
                + ", \"add_special_tokens\": false, \"return_token_strs\": true}");
        assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, t.get("count").asInt());
        assertEquals(SyntheticServers.MAX_MODEL_LEN, t.get("max_model_len").asInt());
        assertEquals(t.get("count").asInt(), t.get("token_strs").size());
        JsonNode d = post("/detokenize", "{\"model\": \"synthetic\", \"tokens\": " + t.get("tokens") + "}");
        assertEquals(text, d.get("prompt").asText());

        // messages go through the chat template: as many tokens as the chat request's prompt
        JsonNode chatTokens = post("/tokenize", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi there\"}]}");
        long promptTokens = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(SyntheticServers.MODEL).addUserMessage("hi there").maxCompletionTokens(1).build())
                .usage().orElseThrow().promptTokens();
        assertEquals(promptTokens, chatTokens.get("count").asLong());

        HttpResponse<String> bad = SyntheticServers.post(node, "/detokenize", "{\"tokens\": [1, 99999]}");
        assertEquals(400, bad.statusCode());
        assertEquals("tokens", M.readTree(bad.body()).at("/error/param").asText());
        HttpResponse<String> version = SyntheticServers.get(node, "/version");
        assertEquals(200, version.statusCode());
        assertFalse(M.readTree(version.body()).get("version").asText().isEmpty());
    }
}
