package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.erosb.jsonsKema.JsonParser;
import com.github.erosb.jsonsKema.SchemaLoader;
import com.github.erosb.jsonsKema.ValidationFailure;
import com.github.erosb.jsonsKema.Validator;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.StructuredChatCompletion;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Structured outputs through {@code arbor serve} on models/tiny-qwen2, a model that writes near-random fortunes: the
 * official OpenAI SDK's {@code response_format} (a JSON schema, a Java class, {@code json_object}) and vLLM's
 * {@code structured_outputs} extras over raw HTTP; outputs validate with an independent JSON Schema validator.
 */
class StructuredOutputsServeTest {
    static final ObjectMapper M = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String MODEL = "tiny-qwen2";
    static ServeCommand.Running running;
    static String url;
    static OpenAIClient client;

    static final String PERSON = """
            {"type":"object","properties":{
              "name":{"type":"string","minLength":1,"maxLength":12},
              "age":{"type":"integer","minimum":0,"maximum":120},
              "mood":{"enum":["happy","sad","calm"]},
              "scores":{"type":"array","items":{"type":"number","minimum":0,"maximum":10},"minItems":1,"maxItems":4},
              "address":{"type":"object","properties":{"city":{"type":"string","maxLength":10},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},
                         "required":["city","zip"],"additionalProperties":false},
              "nickname":{"type":["string","null"],"maxLength":8}},
             "required":["name","age","mood","scores","address"],"additionalProperties":false}""";

    static TinyServe server;

    @BeforeAll
    static void start() {
        server = TinyServe.start(MODEL);
        running = server.running();
        url = server.url();
        client = server.client();
    }

    @AfterAll
    static void stop() { server.close(); }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return M.readTree(r.body());
    }

    static void assertValid(String schema, String text) {
        Validator v = Validator.forSchema(new SchemaLoader(new JsonParser(schema).parse()).load());
        ValidationFailure f = v.validate(new JsonParser(text).parse());
        assertNull(f, () -> text + " does not satisfy the schema: " + f);
    }

    @Test
    void sdkJsonSchemaWithSeveralChoicesValidates() throws Exception {
        Map<String, Object> schema = M.readValue(PERSON, Map.class);
        ResponseFormatJsonSchema.JsonSchema.Schema.Builder sb = ResponseFormatJsonSchema.JsonSchema.Schema.builder();
        schema.forEach((k, v) -> sb.putAdditionalProperty(k, JsonValue.from(v)));
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
                .addUserMessage("Describe a person as JSON").n(4).temperature(1.0).seed(11L).maxCompletionTokens(300)
                .responseFormat(ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder()
                        .name("person").schema(sb.build()).strict(true).build()).build())
                .build());
        assertEquals(4, c.choices().size());
        Set<String> distinct = new HashSet<>();
        for (ChatCompletion.Choice ch : c.choices()) {
            String text = ch.message().content().orElseThrow();
            assertEquals(ChatCompletion.Choice.FinishReason.STOP, ch.finishReason(), text);
            assertValid(PERSON, text);
            distinct.add(text);
        }
        assertTrue(distinct.size() > 1, "four sampled choices were identical: " + distinct);
    }

    enum Weather { SUNNY, RAINY, FOGGY }

    /** The SDK derives a strict JSON schema from this class and parses the reply back into it. */
    public static class Forecast {
        public Weather today;
        public Weather tomorrow;
        public boolean windy;
        public long highCelsius;
    }

    @Test
    void sdkStructuredOutputFromAJavaClassParsesBack() {
        StructuredChatCompletion<Forecast> c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(MODEL).addUserMessage("Forecast?").temperature(0.0).maxCompletionTokens(200)
                .responseFormat(Forecast.class).build());
        Forecast f = c.choices().get(0).message().content().orElseThrow();
        assertTrue(f.today != null && f.tomorrow != null, "the SDK parsed the reply into the class");
    }

    @Test
    void sdkJsonObjectIsAnObject() throws Exception {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
                .addUserMessage("Give me JSON").temperature(0.8).seed(3L).maxCompletionTokens(400)
                .responseFormat(ResponseFormatJsonObject.builder().build()).build());
        String text = c.choices().get(0).message().content().orElseThrow();
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason(), text);
        assertTrue(M.readTree(text).isObject(), text);
    }

    @Test
    void vllmChoiceRegexAndJsonExtras() throws Exception {
        JsonNode choice = ok(post("/v1/chat/completions", """
                {"model":"tiny-qwen2","messages":[{"role":"user","content":"Is it good?"}],"max_tokens":20,
                 "structured_outputs":{"choice":["positive","negative","neutral"]}}"""));
        assertTrue(Set.of("positive", "negative", "neutral").contains(choice.at("/choices/0/message/content").asText()), choice.toString());
        assertEquals("stop", choice.at("/choices/0/finish_reason").asText());

        JsonNode regex = ok(post("/v1/completions", """
                {"model":"tiny-qwen2","prompt":"Call me at","max_tokens":30,"temperature":1.0,"seed":5,"n":3,
                 "structured_outputs":{"regex":"\\\\(\\\\d{3}\\\\) \\\\d{3}-\\\\d{4}"}}"""));
        for (JsonNode ch : regex.get("choices")) {
            assertTrue(ch.get("text").asText().matches("\\(\\d{3}\\) \\d{3}-\\d{4}"), ch.toString());
            assertEquals("stop", ch.get("finish_reason").asText());
        }

        String schema = "{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":6},\"minItems\":2,\"maxItems\":5}";
        JsonNode json = ok(post("/v1/chat/completions", "{\"model\":\"tiny-qwen2\",\"messages\":[{\"role\":\"user\",\"content\":\"Roll dice\"}],"
                + "\"max_tokens\":60,\"stream\":false,\"structured_outputs\":{\"json\":" + schema + "}}"));
        assertValid(schema, json.at("/choices/0/message/content").asText());
    }

    @Test
    void streamedConstrainedOutputAssemblesToValidJson() throws Exception {
        String schema = "{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"},\"n\":{\"type\":\"integer\",\"minimum\":-9,\"maximum\":9}},\"required\":[\"ok\",\"n\"]}";
        HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"tiny-qwen2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"max_tokens\":40,\"stream\":true,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"t\",\"schema\":" + schema + "}}}");
        assertEquals(200, r.statusCode(), r.body());
        StringBuilder text = new StringBuilder();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode chunk = M.readTree(line.substring(6));
            for (JsonNode ch : chunk.path("choices")) text.append(ch.path("delta").path("content").asText(""));
        }
        assertValid(schema, text.toString());
    }

    @Test
    void logitBiasForcesAndRejects() throws Exception {
        JsonNode forced = ok(post("/v1/completions", """
                {"model":"tiny-qwen2","prompt":"Hello","max_tokens":4,"temperature":0,"logit_bias":{"300":100}}"""));
        assertEquals(" is is is is", forced.at("/choices/0/text").asText(), forced.toString());
        String chat = "{\"model\":\"tiny-qwen2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
        assertBadParam(post("/v1/chat/completions", chat + "\"logit_bias\":{\"99999\":5}}"), "logit_bias", "99999");
        assertBadParam(post("/v1/chat/completions", chat + "\"logit_bias\":{\"5\":101}}"), "logit_bias", "[-100, 100]");
    }

    static void assertBadParam(HttpResponse<String> r, String param, String... inMessage) throws Exception {
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = M.readTree(r.body()).get("error");
        assertEquals("invalid_request_error", e.get("type").asText(), r.body());
        assertEquals(param, e.get("param").asText(), r.body());
        for (String s : inMessage) assertTrue(e.get("message").asText().contains(s), r.body());
    }

    @Test
    void badConstraintsAre400sNamingTheFieldAndKeyword() throws Exception {
        String chat = "{\"model\":\"tiny-qwen2\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
        assertBadParam(post("/v1/chat/completions", chat + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\","
                + "\"schema\":{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\",\"uniqueItems\":true}}}}}}"),
                "response_format.json_schema.schema", "uniqueItems", "/properties/tags/uniqueItems");
        assertBadParam(post("/v1/chat/completions", chat + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\","
                + "\"schema\":{\"type\":\"strnig\"}}}}"), "response_format.json_schema.schema", "unknown type 'strnig'");
        assertBadParam(post("/v1/chat/completions", chat + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\"}}}"),
                "response_format.json_schema.schema", "required");
        assertBadParam(post("/v1/chat/completions", chat + "\"response_format\":{\"type\":\"xml\"}}"), "response_format.type", "xml");
        assertBadParam(post("/v1/chat/completions", chat + "\"structured_outputs\":{\"regex\":\"(?<=a)b\"}}"),
                "structured_outputs.regex", "lookarounds");
        assertBadParam(post("/v1/chat/completions", chat + "\"structured_outputs\":{\"grammar\":\"root ::= 'a'\"}}"),
                "structured_outputs.grammar", "not supported");
        assertBadParam(post("/v1/chat/completions", chat + "\"structured_outputs\":{\"choice\":[]}}"),
                "structured_outputs.choice", "non-empty");
        assertBadParam(post("/v1/chat/completions", chat + "\"structured_outputs\":{\"regex\":\"a\"},\"response_format\":{\"type\":\"json_object\"}}"),
                "structured_outputs", "not both");
        assertBadParam(post("/v1/chat/completions", chat + "\"structured_outputs\":{\"json\":{\"$ref\":\"#/$defs/node\","
                + "\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#/$defs/node\"}}}}}}}"),
                "structured_outputs.json", "recursive");
        // and the server still serves
        ok(post("/v1/chat/completions", chat + "\"max_tokens\":3}"));
    }
}
