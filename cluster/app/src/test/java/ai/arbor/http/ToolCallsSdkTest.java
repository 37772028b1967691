package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tool calls end to end with the official SDK, over the synthetic engine: it echoes the rendered prompt, so a user
 * message holding a Hermes-style call makes the "model" write that call, which the server must hand back as
 * {@code tool_calls}, whole and streamed (assembled by the SDK's accumulator), and then accept the conversation with
 * the call and its {@code tool} result. Also the 400s for unknown roles, orphan tool results and malformed tools.
 */
class ToolCallsSdkTest {
    static final ObjectMapper M = new ObjectMapper();
    static final String CALL = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", "
            + "\"days\": 3}}\n</tool_call>";
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

    static ChatCompletionFunctionTool weatherTool() {
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
                .description("Current weather in a city")
                .parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of(
                                "city", Map.of("type", "string"), "days", Map.of("type", "integer"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                        .build())
                .build()).build();
    }

    /** The echo writes the call, then stops where the rendered prompt's next turn begins. */
    static ChatCompletionCreateParams.Builder callingRequest() {
        return ChatCompletionCreateParams.builder().model(SyntheticServers.MODEL).addUserMessage(CALL)
                .addTool(weatherTool()).stop("\n<assistant>").maxCompletionTokens(400);
    }

    @Test
    void toolCallRoundTrip() throws Exception {
        ChatCompletion c = client.chat().completions().create(callingRequest().build());
        var choice = c.choices().get(0);
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        var calls = choice.message().toolCalls().orElseThrow();
        assertEquals(1, calls.size());
        ChatCompletionMessageFunctionToolCall call = calls.get(0).asFunction();
        assertEquals("get_weather", call.function().name());
        assertEquals(M.readTree("{\"city\": \"Paris\", \"days\": 3}"), M.readTree(call.function().arguments()));
        assertTrue(call.id().startsWith("chatcmpl-tool-"), call.id());
        assertEquals("<user>", choice.message().content().orElse(""), "the text before the call is content");

        // the call and its result go back: the template gets both, and the request is accepted
        ChatCompletion next = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(SyntheticServers.MODEL).addUserMessage("weather in Paris?").addTool(weatherTool())
                .addMessage(choice.message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id())
                        .content("{\"temperature\": 21}").build())
                .maxCompletionTokens(200).build());
        String echoed = next.choices().get(0).message().content().orElseThrow();
        assertTrue(echoed.contains("<tool>{\"temperature\": 21}"), echoed);
    }

    @Test
    void streamedToolCallsAssembleInTheSdk() throws Exception {
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                callingRequest().build())) {
            s.stream().forEach(chunk -> {
                chunks.add(chunk);
                acc.accumulate(chunk);
            });
        }
        ChatCompletion whole = acc.chatCompletion();
        var call = whole.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("get_weather", call.function().name());
        assertEquals(M.readTree("{\"city\": \"Paris\", \"days\": 3}"), M.readTree(call.function().arguments()));
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, whole.choices().get(0).finishReason());
        // OpenAI's order: the first tool-call delta carries id, type and name; later ones only argument fragments
        List<ChatCompletionChunk.Choice.Delta.ToolCall> deltas = chunks.stream()
                .flatMap(ch -> ch.choices().stream()).flatMap(ch -> ch.delta().toolCalls().orElse(List.of()).stream())
                .toList();
        assertTrue(deltas.size() >= 2, "the name, then the arguments: " + deltas.size());
        assertTrue(deltas.get(0).id().isPresent());
        assertEquals("get_weather", deltas.get(0).function().orElseThrow().name().orElseThrow());
        for (var d : deltas.subList(1, deltas.size())) {
            assertTrue(d.id().isEmpty());
            assertTrue(d.function().orElseThrow().name().isEmpty());
        }
    }

    static HttpResponse<String> chat(String messagesAndMore) throws Exception {
        return SyntheticServers.post(node, "/v1/chat/completions",
                "{\"model\":\"synthetic\",\"max_tokens\":4," + messagesAndMore + "}");
    }

    static void assertBadParam(HttpResponse<String> r, String param) throws Exception {
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = M.readTree(r.body()).get("error");
        assertEquals(param, e.get("param").asText(), r.body());
        assertEquals("invalid_request_error", e.get("type").asText());
    }

    @Test
    void badConversationsAndToolsAre400s() throws Exception {
        assertBadParam(chat("\"messages\":[{\"role\":\"tool\",\"content\":\"21\",\"tool_call_id\":\"x\"}]"),
                "messages[0].tool_call_id");
        assertBadParam(chat("\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]"), "messages[0].role");
        assertBadParam(chat("\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":null,"
                + "\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{oops\"}}]}]"),
                "messages[1].tool_calls[0].function.arguments");
        String user = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],";
        assertBadParam(chat(user + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":"
                + "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"strin\"}}}}}]"),
                "tools[0].function.parameters.properties.a.type");
        assertBadParam(chat(user + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":"
                + "{\"type\":\"object\",\"required\":\"a\"}}}]"), "tools[0].function.parameters.required");
        assertBadParam(chat(user + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name!\"}}]"),
                "tools[0].function.name");
        assertBadParam(chat(user + "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                + "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}"), "tool_choice.function.name");
        assertBadParam(chat(user + "\"tool_choice\":\"required\""), "tool_choice");
        // the server still serves
        assertEquals(200, chat(user.substring(0, user.length() - 1)).statusCode());
    }
}
