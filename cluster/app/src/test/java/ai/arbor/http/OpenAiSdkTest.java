package ai.arbor.http;

import ai.arbor.cluster.serve.SingleNode;
import static org.junit.jupiter.api.Assertions.*;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against the serving path (synthetic engine): it must parse everything we send. */
class OpenAiSdkTest {
    static SingleNode node;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        node = SyntheticServers.start(Map.of(), 0);
        SyntheticServers.awaitHealthy(node);
        client = OpenAIOkHttpClient.builder().baseUrl(node.url() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        node.close();
    }

    @Test
    void chat() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("synthetic").addUserMessage("hello").maxCompletionTokens(4).build());
        assertEquals("<use", c.choices().get(0).message().content().orElseThrow());
        assertEquals("length", c.choices().get(0).finishReason().toString());
        var usage = c.usage().orElseThrow();
        assertEquals(4, usage.completionTokens());
        assertEquals(usage.promptTokens() + 4, usage.totalTokens());
        assertEquals(0L, usage.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow());
    }

    @Test
    void chatStreamingWithUsage() {
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("synthetic").addUserMessage("hello").maxTokens(7)
                        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(chunk -> {
                chunks.add(chunk);
                chunk.choices().forEach(ch -> ch.delta().content().ifPresent(text::append));
            });
        }
        assertEquals("<user>h", text.toString());
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertTrue(last.choices().isEmpty());
        assertEquals(7, last.usage().orElseThrow().completionTokens());
        boolean finished = chunks.stream().flatMap(c -> c.choices().stream())
                .anyMatch(ch -> ch.finishReason().map(f -> f.equals(ChatCompletionChunk.Choice.FinishReason.LENGTH)).orElse(false));
        assertTrue(finished);
    }

    @Test
    void completionsAndStreaming() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model("synthetic")
                .prompt("abcdef").maxTokens(3).build());
        assertEquals("abc", c.choices().get(0).text());
        assertEquals(6, c.usage().orElseThrow().promptTokens());

        Completion many = client.completions().create(CompletionCreateParams.builder().model("synthetic")
                .promptOfArrayOfStrings(List.of("xy", "pq")).maxTokens(2).build());
        assertEquals(List.of("xy", "pq"), many.choices().stream().map(ch -> ch.text()).toList());

        StringBuilder text = new StringBuilder();
        try (var s = client.completions().createStreaming(CompletionCreateParams.builder().model("synthetic")
                .prompt("stream me").maxTokens(6).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> text.append(ch.text())));
        }
        assertEquals("stream", text.toString());
    }

    @Test
    void modelsList() {
        List<Model> models = client.models().list().data();
        assertEquals(1, models.size());
        assertEquals("synthetic", models.get(0).id());
    }

    @Test
    void errorsSurfaceAsTypedExceptions() {
        NotFoundException nf = assertThrows(NotFoundException.class, () -> client.chat().completions().create(
                ChatCompletionCreateParams.builder().model("nope").addUserMessage("x").build()));
        assertEquals(404, nf.statusCode());
        BadRequestException br = assertThrows(BadRequestException.class, () -> client.chat().completions().create(
                ChatCompletionCreateParams.builder().model("synthetic").addUserMessage("x").temperature(5.0).build()));
        assertEquals("temperature", br.param().orElseThrow());
        BadRequestException tooLong = assertThrows(BadRequestException.class, () -> client.completions().create(
                CompletionCreateParams.builder().model("synthetic").prompt("x".repeat(500)).maxTokens(100).build()));
        assertTrue(tooLong.getMessage().contains("512"), tooLong.getMessage());
    }
}
