package ai.arbor.cluster.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.cluster.cli.ServeCommand;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.InferenceEngine;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * {@code arbor serve --workers 2 --router-mode kv} on models/tiny-qwen2: a prompt whose prefix only worker A holds,
 * sent while A is busy, goes to worker B, which pulls the prefix's blocks from A over the KV data plane (loopback TCP
 * in the one JVM) and computes only the rest; the client sees them as cached tokens.
 */
class ServePeerPullTest {
    private static final String DOCUMENT =
            "Ledger of the lighthouse keeper: oil, wicks, glass and weather, written each evening. ".repeat(6);

    @Test
    void aWorkerPullsThePrefixItsBusyNeighbourHolds() throws Exception {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model",
                Path.of("..", "..", "models", "tiny-qwen2").toString(), "arbor.port", 0, "arbor.engine.workers", 2,
                "arbor.engine.threads", 1, "arbor.engine.kv-cache-memory", "64MiB", "arbor.router.mode", "kv"), null, Map.of()));
        try (ServeCommand.Running running = ServeCommand.start(s)) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(running.node().url() + "/v1").apiKey("unused")
                    .maxRetries(0).build();
            List<InferenceEngine> engines = running.model().engines();
            // a long answer keeps its worker busy: the router counts its uncached prompt as that worker's load, which
            // must outweigh the document the other worker lacks, counted twice (router overlap-weight 2)
            var busy = client.chat().completions().createStreaming(ChatCompletionCreateParams.builder().model("tiny-qwen2")
                    .addUserMessage(DOCUMENT + "Copy out every entry of the winter months, one line per day. ".repeat(30))
                    .maxCompletionTokens(1000).putAdditionalBodyProperty("ignore_eos", JsonValue.from(true)).build());
            try (busy) {
                // its first token means its prompt, the document included, is computed and cached where it runs
                Iterator<ChatCompletionChunk> chunks = busy.stream().iterator();
                while (chunks.next().choices().stream().allMatch(c -> c.delta().content().orElse("").isEmpty())) {
                    // the role chunk, or a token still holding back half a character
                }
                // an engine publishes its counters at the end of the step whose outputs went out
                await(() -> engines.get(0).stats().runningRequests() + engines.get(1).stats().runningRequests() == 1,
                        "the long request runs on one worker");
                int a = engines.get(0).stats().runningRequests() == 1 ? 0 : 1;
                InferenceEngine b = engines.get(1 - a);
                EngineStats before = b.stats();

                ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder()
                        .model("tiny-qwen2").addUserMessage(DOCUMENT + "Which evening was the stormiest?")
                        .maxCompletionTokens(4).build());
                CompletionUsage usage = c.usage().orElseThrow();
                long cached = usage.promptTokensDetails().orElseThrow().cachedTokens().orElse(0L);
                assertEquals(1, engines.get(a).stats().runningRequests(), "A was still busy with the long request");
                await(() -> b.stats().generatedTokens() - before.generatedTokens() == 4, "B answered");
                EngineStats after = b.stats();
                long computed = (after.promptTokens() - before.promptTokens()) - (after.prefixCacheHits() - before.prefixCacheHits());
                assertEquals(usage.promptTokens(), after.promptTokens() - before.promptTokens(), "B took the whole prompt");
                assertEquals(usage.promptTokens() - cached, computed, "B's counters agree with the usage");
                // the question, the chat template's end and the part of a block before them
                assertTrue(computed <= 48, "B computed only the suffix: " + computed + " of " + usage.promptTokens());
                long pulled = after.onboardedPeerBlocks() - before.onboardedPeerBlocks();
                // of the blocks B had cached, at most the chat template's opening two (every prompt's) were its own
                assertTrue(pulled * 16 >= cached - 32, "the document came from A: " + pulled + " blocks for " + cached
                        + " cached tokens");
            }
            // the long request ended (cancelled when its stream closed, or done): both workers end idle, no block held
            for (InferenceEngine e : engines) {
                await(() -> e.stats().runningRequests() == 0 && e.stats().kvBlocksActive() == 0, "a worker stayed busy");
            }
            client.close();
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(5);
        }
    }
}
