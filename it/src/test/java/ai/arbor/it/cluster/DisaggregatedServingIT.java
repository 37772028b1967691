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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Disaggregated serving across processes (real etcd and NATS): a frontend in router mode kv, a worker in mode
 * {@code prefill} and one in mode {@code decode}. The prefill worker computes the prompt, its blocks move to the decode
 * worker over the KV transfer stream, and the decode worker streams the tokens: the same greedy tokens as one
 * aggregated worker gives. A prefill worker killed with SIGKILL mid-prefill costs the request nothing but time.
 * The aggregated worker has a small primary KV pool and a host KV tier, which the host tier test pushes a prefix into
 * and onboards it from; that cluster serves both tests, then stops before the disaggregated cluster starts.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DisaggregatedServingIT extends ClusterProcesses {
    private static final Path MODEL = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
    /** The aggregated cluster: frontend, then worker; started by the first test that needs it. */
    private static final List<NodeProcess> AGGREGATED = new ArrayList<>();
    private static List<Answer> aggregatedAnswers;

    private NodeProcess node(String cluster, String name, String roles, String... extra) {
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), cluster, MODEL, MODEL_NAME, List.of(extra));
        nodes.add(n);
        return n.start();
    }

    /**
     * Starts the aggregated cluster unless it runs, and answers {@link #prompts()} on it first, so the reference
     * answers come from a worker that served nothing else.
     */
    private static List<NodeProcess> aggregated() throws Exception {
        if (!AGGREGATED.isEmpty()) return AGGREGATED;
        Path pool = Files.createTempFile("small-pool", ".conf");
        // 40 blocks of 16 tokens: the host tier test's three other prompts of about 17 blocks push out its document
        Files.writeString(pool, "arbor { engine { num-kv-blocks = 40, max-model-len = 600 } }\n");
        for (String[] n : List.of(new String[] {"f", "frontend", "--router-mode", "kv"},
                new String[] {"w", "worker", "--kv-host-memory", "16MiB", "--config", pool.toString()})) {
            AGGREGATED.add(NodeProcess.create(n[0], n[1], etcd.endpoint(), nats.url(), "agg", MODEL, MODEL_NAME,
                    List.of(n).subList(2, n.length)).start());
        }
        for (NodeProcess n : AGGREGATED) n.awaitReady(READY);
        awaitWorkers(AGGREGATED.get(0), 1);
        List<Answer> answers = new ArrayList<>();
        for (String p : prompts()) answers.add(ask(AGGREGATED.get(0), p));
        aggregatedAnswers = answers;
        return AGGREGATED;
    }

    @AfterAll
    static void stopAggregated() {
        AGGREGATED.forEach(NodeProcess::kill);
        AGGREGATED.clear();
    }

    private static final String DOCUMENT = "The archive holds letters, maps and ledgers from the harbour office. ";

    private static List<String> prompts() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) out.add(DOCUMENT.repeat(6 + i) + " Question " + i + ": what is in drawer " + i + "?");
        return out;
    }

    private record Answer(String text, int promptTokens, int cachedTokens) {}

    private static Answer ask(NodeProcess frontend, String prompt) throws Exception {
        var r = OpenAiCalls.post(frontend.httpUrl() + "/v1/chat/completions", OpenAiCalls.chatBody(MODEL_NAME, prompt, 12, false));
        assertEquals(200, r.status(), r.body());
        JsonNode body = OpenAiCalls.json(r.body());
        JsonNode usage = body.path("usage");
        return new Answer(body.path("choices").path(0).path("message").path("content").asText(),
                usage.path("prompt_tokens").asInt(), usage.path("prompt_tokens_details").path("cached_tokens").asInt());
    }

    private static void awaitWorkers(NodeProcess f, int n) {
        MultiNodeClusterIT.await(() -> NodeProcess.get(f.httpUrl() + "/health").body().contains("\"workers\":" + n),
                Duration.ofSeconds(90), "frontend never saw " + n + " workers");
    }

    /**
     * After other prompts pushed a document's blocks out of the worker's 40-block primary pool into its host tier,
     * asking about the document again onboards them from host memory, and the usage counts them as cached tokens.
     */
    @Test
    @Order(2)
    void aPrefixPushedOutOfThePrimaryPoolIsOnboardedFromHostMemory() throws Exception {
        NodeProcess f = aggregated().get(0);
        NodeProcess w = aggregated().get(1);
        String document = "The ferry timetable lists crossings, tides and fares for every island harbour. ".repeat(13);
        Answer first = ask(f, document + "When does the first ferry leave?");
        assertTrue(first.promptTokens() > 16 * 12, "a document of more than 12 blocks, got " + first.promptTokens());
        long onboardedBefore = w.stat("onboardedHostBlocks");
        long computedBefore = w.stat("promptTokens") - w.stat("prefixCacheHits");
        for (int i = 0; i < 3; i++) ask(f, ("Unrelated text number " + i + " about ships, weather and tides. ").repeat(20));
        // more new blocks than the pool holds were taken since the document: the least recently used, the document's
        // among them, went to host memory
        long computed = w.stat("promptTokens") - w.stat("prefixCacheHits") - computedBefore;
        assertTrue(computed > 40 * 16, "the other prompts outgrew the primary pool: " + computed + " tokens computed");
        assertTrue(w.stat("hostKvBlocks") >= first.promptTokens() / 16 - 2, "the document's blocks went to host memory");

        Answer again = ask(f, document + "When does the last ferry leave?");
        assertTrue(again.cachedTokens() >= again.promptTokens() - 32,
                "the document came back as cached tokens: " + again.cachedTokens() + " of " + again.promptTokens());
        long onboarded = w.stat("onboardedHostBlocks") - onboardedBefore;
        // of the cached blocks, only the chat template's opening two (32 tokens, every prompt's) stayed in the primary pool
        assertTrue(onboarded * 16 >= again.cachedTokens() - 32,
                "from the host tier: " + onboarded + " blocks for " + again.cachedTokens() + " cached tokens");
    }

    @Test
    @Order(3)
    void prefillAndDecodeWorkersGiveTheTokensOfAggregatedServing() throws Exception {
        aggregated();
        List<Answer> aggregated = aggregatedAnswers;
        stopAggregated();

        NodeProcess f = node("disagg", "f", "frontend", "--router-mode", "kv", "--disagg-min-prefill-tokens", "32");
        NodeProcess prefill = node("disagg", "p", "worker", "--worker-mode", "prefill");
        NodeProcess decode = node("disagg", "d", "worker", "--worker-mode", "decode");
        for (NodeProcess n : List.of(f, prefill, decode)) n.awaitReady(READY);
        awaitDisaggregation(f, decode);
        long prefillTokensBefore = prefill.stat("generatedTokens");
        long peerBlocksBefore = decode.stat("onboardedPeerBlocks");
        List<Answer> disaggregated = new ArrayList<>();
        for (String p : prompts()) disaggregated.add(ask(f, p));
        for (int i = 0; i < aggregated.size(); i++) {
            assertEquals(aggregated.get(i).text(), disaggregated.get(i).text(), "prompt " + i);
            Answer d = disaggregated.get(i);
            // the decode worker got every full block of the prompt from the prefill worker
            assertTrue(d.cachedTokens() >= d.promptTokens() - 16, "prompt " + i + ": cached " + d.cachedTokens()
                    + " of " + d.promptTokens());
        }
        assertTrue(decode.stat("onboardedPeerBlocks") > peerBlocksBefore, "the decode worker took blocks from its peer");
        assertEquals(prompts().size(), prefill.stat("generatedTokens") - prefillTokensBefore,
                "the prefill worker computed each prompt (one token each), and decoded nothing");
    }

    @Test
    @Order(1)
    void aPrefillWorkerKilledMidTransferCostsTheRequestNothingButTime() throws Exception {
        Path slow = Files.createTempFile("slow-prefill", ".conf");
        // 8-token steps: the prefill of a long prompt takes long enough to be caught in the act
        Files.writeString(slow, "arbor { engine { max-num-batched-tokens = 8 } }\n");
        NodeProcess f = node("kill", "f", "frontend", "--router-mode", "kv", "--disagg-min-prefill-tokens", "32");
        NodeProcess prefill = node("kill", "p", "worker", "--worker-mode", "prefill", "--config", slow.toString());
        NodeProcess decode = node("kill", "d", "worker", "--worker-mode", "decode");
        for (NodeProcess n : List.of(f, prefill, decode)) n.awaitReady(READY);
        awaitDisaggregation(f, decode);
        long peerBlocks = decode.stat("onboardedPeerBlocks");
        String prompt = DOCUMENT.repeat(60) + " What is in the archive?";
        CompletableFuture<Answer> answer = CompletableFuture.supplyAsync(() -> {
            try {
                return ask(f, prompt);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        MultiNodeClusterIT.await(() -> prefill.stat("runningRequests") > 0, Duration.ofSeconds(60),
                "the prefill worker never started the prompt");
        prefill.kill();
        Answer a = answer.get(180, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(a.promptTokens() > 500);
        // at most the chat template's opening block, which the warm-up requests left cached
        assertTrue(a.cachedTokens() < a.promptTokens() / 10, "the decode worker computed the prompt itself, cached " + a.cachedTokens());
        MultiNodeClusterIT.await(() -> decode.stat("kvBlocksActive") == 0, Duration.ofSeconds(30),
                "the decode worker's KV usage did not return to idle");
        assertEquals(peerBlocks, decode.stat("onboardedPeerBlocks"), "nothing of the killed prefill arrived");
    }

    /**
     * Waits until the frontend has found the prefill worker (its own Receptionist key) and its endpoint: short
     * warm-up requests, each with its own text, until one was prefilled remotely.
     */
    private static void awaitDisaggregation(NodeProcess f, NodeProcess decode) throws Exception {
        awaitWorkers(f, 1);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        for (int i = 0; decode.stat("onboardedPeerBlocks") <= 0; i++) {
            assertTrue(System.nanoTime() < deadline, "no request was ever prefilled by the prefill worker");
            ask(f, ("Warm-up " + i + " of the cluster, with enough words to reach the threshold. ").repeat(4));
        }
    }

}
