package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --reasoning-parser deepseek_r1} over the synthetic echo engine: output is reasoning until {@code </think>},
 * so a user message holding {@code </think>} makes the echo split into {@code reasoning_content} and content, whole
 * and streamed (the SDK keeps the vLLM field among a message's additional properties).
 */
class ReasoningSdkTest {
    static SyntheticServers.Sdk server;
    static SingleNode node;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = SyntheticServers.sdk(Map.of("arbor.chat.reasoning-parser", "deepseek_r1"));
        node = server.node();
        client = server.client();
    }

    @AfterAll
    static void stop() { server.close(); }

    static ChatCompletionCreateParams request() {
        return ChatCompletionCreateParams.builder().model(SyntheticServers.MODEL)
                .addUserMessage("plan it</think>the answer").stop("\n<assistant>").maxCompletionTokens(100)
                .reasoningEffort(com.openai.models.ReasoningEffort.LOW).build();
    }

    @Test
    void wholeResponseSplitsReasoning() {
        ChatCompletion c = client.chat().completions().create(request());
        var msg = c.choices().get(0).message();
        assertEquals("the answer", msg.content().orElseThrow());
        assertEquals("<user>plan it", msg._additionalProperties().get("reasoning_content").asString().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
    }

    @Test
    void responsesCarryAReasoningItem() {
        var r = client.responses().create(com.openai.models.responses.ResponseCreateParams.builder()
                .model(SyntheticServers.MODEL).input("plan it</think>the answer").maxOutputTokens(100)
                .putAdditionalBodyProperty("stop", JsonValue.from(java.util.List.of("\n<assistant>"))).build());
        var reasoning = r.output().get(0).reasoning().orElseThrow();
        assertEquals("<user>plan it", reasoning.content().orElseThrow().get(0).text());
        var message = r.output().get(1).message().orElseThrow();
        assertEquals("the answer", message.content().get(0).outputText().orElseThrow().text());
    }

    @Test
    void streamedDeltasSplitReasoning() {
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(request())) {
            s.stream().flatMap(ch -> ch.choices().stream()).forEach(ch -> {
                ch.delta().content().ifPresent(content::append);
                JsonValue r = ch.delta()._additionalProperties().get("reasoning_content");
                if (r != null) r.asString().ifPresent(reasoning::append);
            });
        }
        assertEquals("<user>plan it", reasoning.toString());
        assertEquals("the answer", content.toString());
    }
}
