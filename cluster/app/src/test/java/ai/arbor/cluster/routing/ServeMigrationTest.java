package ai.arbor.cluster.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.worker.LocalReplies;
import ai.arbor.actors.worker.WorkerActor;
import ai.arbor.cluster.cli.ServeCommand;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.protocol.InferenceEngine;
import ai.arbor.http.SamplingDefaults;
import ai.arbor.cluster.serve.SingleNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.Test;

/**
 * {@code arbor serve} with two workers in its JVM: requests spread over them, and a stream whose worker stops mid-way
 * continues on the other, as in a cluster, with no token lost or repeated and usage over the whole answer.
 */
class ServeMigrationTest {

    /** The chat template of {@link ByteTokenizer}: the prompt's last token is '>' (byte 62, token 65). */
    private static final String PROMPT = "<user>go\n<assistant>";

    private static ArborSettings settings(Map<String, Object> more) {
        Map<String, Object> m = new java.util.HashMap<>(Map.of("arbor.port", 0, "arbor.device", "synthetic",
                "arbor.served-model-name", "counting"));
        m.putAll(more);
        return ArborSettings.from(ArborConfig.load(m, null, Map.of()));
    }

    private static OpenAIClient client(SingleNode node) {
        return OpenAIOkHttpClient.builder().baseUrl(node.url() + "/v1").apiKey("unused").maxRetries(0).build();
    }

    @Test
    void aStreamWhoseWorkerStopsContinuesOnTheOtherWorker() {
        streamWhileTheServingWorkerStops(1);
    }

    @Test
    void everyChoiceOfAStreamMovesWithIt() {
        streamWhileTheServingWorkerStops(2);
    }

    /**
     * Streams {@code n} choices of 60 tokens (3 s: a client thread slowed by a busy machine still stops the worker
     * mid-way), stops the worker serving them after the first few, checks the answer.
     */
    private static void streamWhileTheServingWorkerStops(int n) {
        CountingEngine e0 = new CountingEngine(50);
        CountingEngine e1 = new CountingEngine(50);
        List<InferenceEngine> engines = List.of(e0, e1);
        try (SingleNode node = SingleNode.start(settings(Map.of()),
                new SingleNode.ModelSpec(new ByteTokenizer(), 4096, SamplingDefaults.none()), engines)) {
            OpenAIClient client = client(node);
            assertEquals(2, node.workers().size());
            StringBuilder[] text = new StringBuilder[n];
            for (int i = 0; i < n; i++) text[i] = new StringBuilder();
            List<ChatCompletionChunk> chunks = new ArrayList<>();
            AtomicBoolean stopped = new AtomicBoolean();
            int[] serving = new int[1];
            try (var s = client.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                    .model("counting").addUserMessage("go").maxTokens(60).n(n)
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
                s.stream().forEach(chunk -> {
                    chunks.add(chunk);
                    chunk.choices().forEach(ch -> ch.delta().content().ifPresent(text[(int) ch.index()]::append));
                    if (text[0].length() >= 5 && stopped.compareAndSet(false, true)) {
                        serving[0] = e0.seen.isEmpty() ? 1 : 0;
                        ActorRef<WorkerActor.Command> worker = node.workers().get(serving[0]);
                        Adapter.toClassic(node.system()).stop(Adapter.toClassic(worker));
                    }
                });
            }
            assertTrue(stopped.get(), "the stream ended before its worker could be stopped: " + text[0]);
            // CountingEngine answers the token after the prompt's last one, then the next: bytes 63, 64, ... 122
            StringBuilder expected = new StringBuilder();
            for (int b = 63; b < 63 + 60; b++) expected.append((char) b);
            for (int i = 0; i < n; i++) {
                assertEquals(expected.toString(), text[i].toString(), "choice " + i + ": no token lost or repeated");
            }
            CompletionUsage usage = chunks.get(chunks.size() - 1).usage().orElseThrow();
            assertEquals(60L * n, usage.completionTokens());
            assertEquals(PROMPT.length(), usage.promptTokens(), "the original prompt, not the moved one");
            CountingEngine other = serving[0] == 0 ? e1 : e0;
            assertEquals(n, other.seen.keySet().stream().filter(id -> id.endsWith("#m1")).count(),
                    "the rest of every choice ran on the other worker: " + other.seen.keySet());
            LocalReplies.Deliveries d = LocalReplies.get(node.system()).deliveries();
            assertEquals(0, d.messages(), "in one JVM every output takes the one-hop path");
            client.close();
        }
    }

    @Test
    void serveWithTwoWorkersSpreadsRequestsOverBoth() throws InterruptedException {
        ServeCommand.Running running = ServeCommand.start(settings(Map.of("arbor.engine.workers", 2,
                "arbor.router.mode", "round-robin", "arbor.model", "unused-for-synthetic")));
        OpenAIClient client = client(running.node());
        try {
            assertEquals(2, running.model().engines().size());
            for (int i = 0; i < 4; i++) {
                var c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("counting")
                        .addUserMessage("hello").maxTokens(3).build());
                assertEquals(3, c.usage().orElseThrow().completionTokens());
            }
            // an engine publishes its stats after the step that delivered the last token: wait for them
            long deadline = System.nanoTime() + 10_000_000_000L;
            List<InferenceEngine> engines = running.model().engines();
            while (System.nanoTime() < deadline
                    && engines.stream().mapToLong(e -> e.stats().generatedTokens()).sum() < 12) {
                Thread.sleep(5);
            }
            for (InferenceEngine e : engines) {
                assertEquals(6, e.stats().generatedTokens(), "round-robin gives each worker two of four requests");
            }
        } finally {
            client.close();
            running.close();
        }
    }
}
