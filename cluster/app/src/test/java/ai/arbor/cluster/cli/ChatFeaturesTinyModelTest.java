package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.github.erosb.jsonsKema.JsonParser;
import com.github.erosb.jsonsKema.SchemaLoader;
import com.github.erosb.jsonsKema.ValidationFailure;
import com.github.erosb.jsonsKema.Validator;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chat features on the real engine and models/tiny-qwen2, fed a test template that opens {@code <think>} in the
 * generation prompt (and closes it when {@code chat_template_kwargs.enable_thinking} is false), with
 * {@code --reasoning-parser qwen3}: the model's own words land in {@code reasoning_content}, whole and streamed, and
 * equal what the same prompt completes to. Also {@code /v1/embeddings}: shape, unit length, and the same vector for
 * an input whatever it is batched with.
 */
class ChatFeaturesTinyModelTest {
    static final ObjectMapper M = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String MODEL = "tiny-qwen2";
    static ServeCommand.Running running;
    static String url;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        Path model = Path.of("..", "..", "models", MODEL);
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model", model.toString(), "arbor.port", 0,
                "arbor.engine.kv-cache-memory", "64MiB", "arbor.chat.reasoning-parser", "qwen3",
                "arbor.chat.chat-template", "src/test/resources/templates/tiny-think.jinja"), null, Map.of()));
        running = ServeCommand.start(s);
        url = running.node().url();
        client = OpenAIOkHttpClient.builder().baseUrl(url + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        running.close();
    }

    static JsonNode post(String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return M.readTree(r.body());
    }

    /** What the model writes after the template's rendering of one user message, greedily. */
    static String completionOf(Map<String, Object> kwargs, int maxTokens) throws Exception {
        JsonNode ids = post("/tokenize", M.writeValueAsString(Map.of("model", MODEL, "messages",
                List.of(Map.of("role", "user", "content", "Tell me my fortune")), "chat_template_kwargs", kwargs))).get("tokens");
        List<Long> prompt = new ArrayList<>();
        ids.forEach(t -> prompt.add(t.asLong()));
        return client.completions().create(CompletionCreateParams.builder().model(MODEL)
                .promptOfArrayOfTokens(prompt).maxTokens(maxTokens).temperature(0.0).build()).choices().get(0).text();
    }

    static ChatCompletionCreateParams.Builder chat(int maxTokens) {
        return ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Tell me my fortune")
                .maxCompletionTokens(maxTokens).temperature(0.0);
    }

    @Test
    void thinkingOutputIsReasoningContent() throws Exception {
        String expected = completionOf(Map.of(), 12);
        assertFalse(expected.isEmpty());
        ChatCompletion c = client.chat().completions().create(chat(12).build());
        var msg = c.choices().get(0).message();
        assertEquals(expected, msg._additionalProperties().get("reasoning_content").asString().orElseThrow());
        assertTrue(msg.content().isEmpty(), "no </think> yet: nothing is content");

        StringBuilder streamed = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(chat(12).build())) {
            s.stream().flatMap(ch -> ch.choices().stream()).forEach(ch -> {
                assertTrue(ch.delta().content().orElse("").isEmpty(), "content delta while reasoning");
                JsonValue r = ch.delta()._additionalProperties().get("reasoning_content");
                if (r != null) r.asString().ifPresent(streamed::append);
            });
        }
        assertEquals(expected, streamed.toString());
    }

    @Test
    void enableThinkingFalseReachesTheTemplate() throws Exception {
        Map<String, Object> off = Map.of("enable_thinking", false);
        String expected = completionOf(off, 12);
        ChatCompletion c = client.chat().completions().create(chat(12)
                .putAdditionalBodyProperty("chat_template_kwargs", JsonValue.from(off)).build());
        var msg = c.choices().get(0).message();
        assertEquals(expected, msg.content().orElseThrow(), "the template closed the reasoning: all is content");
        assertTrue(msg._additionalProperties().get("reasoning_content").isNull());
    }

    @Test
    void toolsAndToolResultsReachTheTemplate() throws Exception {
        String conversation = """
                {"model": "tiny-qwen2",
                 "tools": [{"type": "function", "function": {"name": "get_weather",
                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
                 "messages": [{"role": "user", "content": "Weather in Oslo?"},
                              {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                               "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}}]},
                              {"role": "tool", "tool_call_id": "c1", "content": "rain, 4 degrees"}]}""";
        JsonNode ids = post("/tokenize", conversation).get("tokens");
        String rendered = post("/detokenize", "{\"tokens\": " + ids + "}").get("prompt").asText();
        assertTrue(rendered.contains("Tools:\nget_weather\n"), rendered);
        assertTrue(rendered.contains("<|im_start|>tool\nrain, 4 degrees<|im_end|>"), rendered);
        // and the real engine answers the conversation
        JsonNode answer = post("/v1/chat/completions", conversation.replace("\"model\": \"tiny-qwen2\",",
                "\"model\": \"tiny-qwen2\", \"max_tokens\": 4, \"tool_choice\": \"none\","));
        assertEquals(ids.size(), answer.at("/usage/prompt_tokens").asInt());
    }

    static final String WEATHER_PARAMS = """
            {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
             "days": {"type": "integer", "minimum": 1, "maximum": 7}, "unit": {"enum": ["celsius", "fahrenheit"]}},
             "required": ["city", "days", "unit"]}""";

    static ChatCompletionFunctionTool weatherTool() throws Exception {
        FunctionParameters.Builder p = FunctionParameters.builder();
        M.readValue(WEATHER_PARAMS, Map.class).forEach((k, v) -> p.putAdditionalProperty((String) k, JsonValue.from(v)));
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
                .description("Current weather in a city").parameters(p.build()).build()).build();
    }

    static void assertValid(String schema, String json) {
        Validator v = Validator.forSchema(new SchemaLoader(new JsonParser(schema).parse()).load());
        ValidationFailure f = v.validate(new JsonParser(json).parse());
        assertNull(f, () -> json + " does not satisfy the schema: " + f);
    }

    @Test
    void namedToolChoiceRoundTripValidates() throws Exception {
        ChatCompletionCreateParams.Builder ask = ChatCompletionCreateParams.builder().model(MODEL)
                .addUserMessage("What is the weather in Oslo?").addTool(weatherTool()).maxCompletionTokens(80)
                .toolChoice(ChatCompletionNamedToolChoice.builder().function(ChatCompletionNamedToolChoice.Function
                        .builder().name("get_weather").build()).build());
        ChatCompletion c = client.chat().completions().create(ask.build());
        var msg = c.choices().get(0).message();
        var call = msg.toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("get_weather", call.function().name());
        assertValid(WEATHER_PARAMS, call.function().arguments());

        // the result goes back as a tool message after the assistant's call, and the model answers
        ChatCompletion answer = client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
                .addUserMessage("What is the weather in Oslo?").addTool(weatherTool()).addMessage(msg)
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id())
                        .content("{\"sky\": \"rain\", \"temperature\": 4}").build())
                .maxCompletionTokens(8).build());
        assertEquals(1, answer.choices().size());
        assertTrue(answer.usage().orElseThrow().promptTokens() > c.usage().orElseThrow().promptTokens());

        // streamed, assembled by the SDK: the same kind of call
        ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(ask.build())) {
            s.stream().forEach(acc::accumulate);
        }
        var streamed = acc.chatCompletion().choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("get_weather", streamed.function().name());
        assertValid(WEATHER_PARAMS, streamed.function().arguments());
    }

    @Test
    void requiredToolChoiceWritesValidCalls() throws Exception {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
                .addUserMessage("Weather?").addTool(weatherTool()).maxCompletionTokens(120).parallelToolCalls(false)
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
        var calls = c.choices().get(0).message().toolCalls().orElseThrow();
        assertEquals(1, calls.size(), "parallel_tool_calls false: one call");
        assertEquals("get_weather", calls.get(0).asFunction().function().name());
        assertValid(WEATHER_PARAMS, calls.get(0).asFunction().function().arguments());
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c.choices().get(0).finishReason());
    }

    static List<Float> vector(CreateEmbeddingResponse r, int i) {
        return r.data().get(i).embedding().stream().map(Number::floatValue).toList();
    }

    @Test
    void embeddingsAreUnitVectorsIndependentOfTheBatch() throws Exception {
        List<String> inputs = List.of("The early bird gets the worm.", "You will travel far.", "x");
        CreateEmbeddingResponse batch = client.embeddings().create(EmbeddingCreateParams.builder().model(MODEL)
                .inputOfArrayOfStrings(inputs).build());
        assertEquals(3, batch.data().size());
        for (int i = 0; i < 3; i++) {
            List<Float> v = vector(batch, i);
            assertEquals(256, v.size(), "the model's hidden size");
            double norm = Math.sqrt(v.stream().mapToDouble(x -> x * x).sum());
            assertEquals(1.0, norm, 1e-5);
        }
        assertNotEquals(vector(batch, 0), vector(batch, 1));
        // the same text alone, and in another batch, gives the very same floats
        CreateEmbeddingResponse alone = client.embeddings().create(EmbeddingCreateParams.builder().model(MODEL)
                .input(inputs.get(1)).build());
        assertEquals(vector(batch, 1), vector(alone, 0));
        CreateEmbeddingResponse other = client.embeddings().create(EmbeddingCreateParams.builder().model(MODEL)
                .inputOfArrayOfStrings(List.of("x", "Another one entirely, longer than the rest of them.",
                        inputs.get(1))).build());
        assertEquals(vector(batch, 1), vector(other, 2));
        assertEquals(vector(batch, 2), vector(other, 0));

        // token ids give what their text gives; base64 holds the same little-endian floats
        JsonNode ids = post("/tokenize", "{\"model\": \"" + MODEL + "\", \"prompt\": \"You will travel far.\"}").get("tokens");
        JsonNode byIds = post("/v1/embeddings", "{\"model\": \"" + MODEL + "\", \"input\": " + ids + "}");
        JsonNode b64 = post("/v1/embeddings", "{\"model\": \"" + MODEL + "\", \"input\": \"You will travel far.\", "
                + "\"encoding_format\": \"base64\"}");
        ByteBuffer buf = ByteBuffer.wrap(Base64.getDecoder().decode(b64.at("/data/0/embedding").asText()))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 256; i++) {
            assertEquals(vector(batch, 1).get(i), (float) byIds.at("/data/0/embedding/" + i).asDouble(), 0f);
            assertEquals(vector(batch, 1).get(i), buf.getFloat(), 0f);
        }
        assertEquals(ids.size(), byIds.at("/usage/prompt_tokens").asInt());

        BadRequestException dims = assertThrows(BadRequestException.class, () -> client.embeddings().create(
                EmbeddingCreateParams.builder().model(MODEL).input("x").dimensions(64).build()));
        assertEquals("dimensions", dims.param().orElseThrow());
    }
}
