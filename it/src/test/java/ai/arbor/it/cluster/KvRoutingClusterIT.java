package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.it.support.ClusterProcesses;
import ai.arbor.it.support.NodeProcess;
import ai.arbor.it.support.OpenAiCalls;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * KV-aware routing across processes: workers publish their engines' KV events to a real {@code nats-server -js},
 * a frontend in router mode {@code kv} indexes them and sends requests to the worker that has their prefix cached;
 * when that worker is busy, the request goes to the other, which pulls the prefix's blocks from it over the KV data
 * plane. One cluster (a frontend, two workers) serves every test of the class; each test uses a document of its own,
 * so no test finds another's prefix cached, and counts the workers' counters from its own start.
 */
class KvRoutingClusterIT extends ClusterProcesses {
    private static final List<NodeProcess> CLUSTER = new ArrayList<>();
    private static NodeProcess f;
    private static NodeProcess w1;
    private static NodeProcess w2;

    private static NodeProcess node(String name, String roles, String... extra) {
        Path model = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), "kv", model, MODEL_NAME, List.of(extra));
        CLUSTER.add(n);
        return n.start();
    }

    @BeforeAll
    static void startCluster() {
        f = node("f", "frontend", "--router-mode", "kv");
        w1 = node("w1", "worker");
        w2 = node("w2", "worker");
        for (NodeProcess n : List.of(f, w1, w2)) n.awaitReady(READY);
        MultiNodeClusterIT.await(() -> NodeProcess.get(f.httpUrl() + "/health").body().contains("\"workers\":2"),
                Duration.ofSeconds(60), "frontend never saw both workers");
    }

    @AfterAll
    static void stopCluster() {
        CLUSTER.forEach(NodeProcess::kill);
        CLUSTER.clear();
    }

    @Test
    void requestsSharingAPrefixGoToTheWorkerThatCachedIt() throws Exception {
        long[] generatedBefore = {w1.stat("generatedTokens"), w2.stat("generatedTokens")};
        // a long shared document, then a different question each time; sent one after the other, so least-loaded
        // routing would alternate between the two workers and find nothing cached on the second
        String document = "The archive holds letters, maps and ledgers from the harbour office. ".repeat(20);
        List<Integer> cached = new ArrayList<>();
        List<Integer> prompt = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            JsonNode usage = chat(document + " Question " + i + ": what is in drawer " + i + "?", 4).path("usage");
            prompt.add(usage.path("prompt_tokens").asInt());
            cached.add(usage.path("prompt_tokens_details").path("cached_tokens").asInt());
        }
        for (int i = 1; i < 4; i++) {
            assertTrue(cached.get(i) >= prompt.get(i) * 8 / 10,
                    "request " + i + " should find the document cached: cached " + cached + " of prompts " + prompt);
        }
        long busy = (w1.stat("generatedTokens") > generatedBefore[0] ? 1 : 0) + (w2.stat("generatedTokens") > generatedBefore[1] ? 1 : 0);
        assertEquals(1, busy, "all four requests should have run on the worker holding the document");
        assertTrue(logCount(f, "routes in mode kv") == 1, "frontend did not start in kv mode");
    }

    /**
     * Worker A runs a long request whose prompt begins with a document; a second request about the document goes to
     * worker B, since the router counts A's running prompt as its load, and B pulls the document's blocks from A
     * instead of computing them. B's prompt-token counters show that it computed only the question after the document.
     */
    @Test
    void aPrefixCachedOnlyOnABusyWorkerIsPulledByTheOtherWorker() throws Exception {
        String document = "Ledger of the lighthouse keeper: oil, wicks, glass and weather, written each evening. ".repeat(6);
        // the router counts the long request's uncached prompt as A's load, which must outweigh the document B lacks,
        // counted twice (router overlap-weight 2)
        String busyPrompt = document + "Copy out every entry of the winter months, one line per day. ".repeat(30);
        try (Stream<String> busy = OpenAiCalls.stream(f.httpUrl() + "/v1/chat/completions",
                OpenAiCalls.chatBody(MODEL_NAME, busyPrompt, 1000, true))) {
            // its first token means its whole prompt, the document included, is computed and cached where it runs
            awaitFirstToken(busy.iterator());
            // a worker publishes its counters at the end of the step whose outputs went out
            MultiNodeClusterIT.await(() -> w1.stat("runningRequests") + w2.stat("runningRequests") == 1,
                    Duration.ofSeconds(10), "the long request runs on one worker");
            NodeProcess a = w1.stat("runningRequests") == 1 ? w1 : w2;
            NodeProcess b = a == w1 ? w2 : w1;
            long promptBefore = b.stat("promptTokens");
            long hitsBefore = b.stat("prefixCacheHits");
            long pulledBefore = b.stat("onboardedPeerBlocks");
            long generatedBefore = b.stat("generatedTokens");

            JsonNode usage = chat(document + "Which evening was the stormiest?", 4).path("usage");
            int prompt = usage.path("prompt_tokens").asInt();
            int cached = usage.path("prompt_tokens_details").path("cached_tokens").asInt();
            assertEquals(1, a.stat("runningRequests"), "A was still busy with the long request");
            MultiNodeClusterIT.await(() -> b.stat("generatedTokens") - generatedBefore == 4, Duration.ofSeconds(10),
                    "B answered");
            long pulled = b.stat("onboardedPeerBlocks") - pulledBefore;
            long computed = (b.stat("promptTokens") - promptBefore) - (b.stat("prefixCacheHits") - hitsBefore);
            assertEquals(prompt, b.stat("promptTokens") - promptBefore, "B took the whole prompt");
            assertEquals(prompt - cached, computed, "B's counters agree with the usage it reported");
            // the question, the chat template's end and the part of a block before them: at most 48 tokens
            assertTrue(computed <= 48, "B computed only the suffix: " + computed + " of " + prompt + " prompt tokens");
            // of the blocks B had cached, at most the chat template's opening two (32 tokens, every prompt's) were its own
            assertTrue(pulled * 16 >= cached - 32, "the document came from A: " + pulled + " blocks for " + cached
                    + " cached tokens");
        }
        // the long request ended (cancelled when its stream closed, or done): both workers end idle, no block held
        for (NodeProcess w : List.of(w1, w2)) {
            MultiNodeClusterIT.await(() -> w.stat("runningRequests") == 0 && w.stat("kvBlocksActive") == 0,
                    Duration.ofSeconds(30), w.name() + "'s KV usage did not return to idle");
        }
    }

    private static JsonNode chat(String content, int maxTokens) {
        var r = OpenAiCalls.post(f.httpUrl() + "/v1/chat/completions", OpenAiCalls.chatBody(MODEL_NAME, content, maxTokens, false));
        assertEquals(200, r.status(), r.body());
        return OpenAiCalls.json(r.body());
    }

    private static void awaitFirstToken(Iterator<String> events) {
        for (JsonNode e = OpenAiCalls.nextEvent(events); ; e = OpenAiCalls.nextEvent(events)) {
            assertTrue(e != null, "the stream ended before its first token");
            if (!e.path("choices").path(0).path("delta").path("content").asText().isEmpty()) return;
        }
    }

    private static long logCount(NodeProcess n, String text) throws java.io.IOException {
        try (var lines = Files.lines(n.log())) {
            return lines.filter(l -> l.contains(text)).count();
        }
    }
}
