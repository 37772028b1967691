package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.it.support.ClusterProcesses;
import ai.arbor.it.support.FreePorts;
import ai.arbor.it.support.NodeProcess;
import ai.arbor.it.support.OpenAiCalls;
import ai.arbor.it.support.TcpProxy;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Disaggregated serving across processes (real etcd and NATS): a frontend in router mode kv, a worker in mode
 * {@code prefill} and one in mode {@code decode}. The prefill worker computes the prompt, its blocks move to the decode
 * worker over the KV transfer stream, and the decode worker streams the tokens: the same greedy tokens as one
 * aggregated worker gives. A prefill worker killed with SIGKILL mid-prefill, or while its blocks are on the wire,
 * costs the requests nothing but time. The aggregated worker has a small primary KV pool and a host KV tier, which the
 * host tier test pushes a prefix into and onboards it from; that cluster answers every prompt first (the reference),
 * serves the host tier test, then stops before the disaggregated cluster starts, which serves the last two tests.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DisaggregatedServingIT extends ClusterProcesses {
    private static final Path MODEL = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
    /** The aggregated cluster: frontend, then worker; started by the first test that needs it. */
    private static final List<NodeProcess> AGGREGATED = new ArrayList<>();
    private static Map<String, Answer> aggregatedAnswers;
    /** The disaggregated cluster: frontend, prefill worker, decode worker; started by the first test that needs it. */
    private static final List<NodeProcess> DISAGGREGATED = new ArrayList<>();
    /** Where the decode worker reaches the prefill worker's transfer port (its advertised port). */
    private static TcpProxy prefillTransfers;
    /** The decode worker's transfer deadline, short so that a transfer stalled for good ends soon. */
    private static final Duration TRANSFER_TIMEOUT = Duration.ofSeconds(10);

    private NodeProcess node(String cluster, String name, String roles, String... extra) {
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), cluster, MODEL, MODEL_NAME, List.of(extra));
        nodes.add(n);
        return n.start();
    }

    /**
     * Starts the aggregated cluster unless it runs, and answers {@link #prompts()} and {@link #killPrompts()} on it
     * first, so the reference answers come from a worker that served nothing else.
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
        Map<String, Answer> answers = new HashMap<>();
        for (String p : prompts()) answers.put(p, ask(AGGREGATED.get(0), p));
        for (String p : killPrompts()) answers.put(p, ask(AGGREGATED.get(0), p));
        aggregatedAnswers = answers;
        return AGGREGATED;
    }

    /** The aggregated cluster's answers, computed once; the cluster stops here, as the tests after it need no more. */
    private static Map<String, Answer> referenceAnswers() throws Exception {
        if (aggregatedAnswers == null) aggregated();
        stopAggregated();
        return aggregatedAnswers;
    }

    @AfterAll
    static void stopAggregated() {
        AGGREGATED.forEach(NodeProcess::kill);
        AGGREGATED.clear();
    }

    /**
     * Starts the disaggregated cluster unless it runs: the prefill worker advertises a proxy's port for its blocks
     * ({@code --advertise-kv-transfer-port}, as behind a NAT), so every transfer to the decode worker passes the proxy.
     */
    private static Disaggregated disaggregated() throws Exception {
        if (!DISAGGREGATED.isEmpty()) return new Disaggregated(DISAGGREGATED.get(0), DISAGGREGATED.get(1), DISAGGREGATED.get(2));
        prefillTransfers = TcpProxy.listen();
        int transferPort = FreePorts.next();
        prefillTransfers.forwardTo(transferPort);
        Path decodeConf = Files.createTempFile("decode", ".conf");
        Files.writeString(decodeConf, "arbor { kv-sharing { transfer-timeout = " + TRANSFER_TIMEOUT.toSeconds() + "s } }\n");
        for (String[] n : List.of(new String[] {"f", "frontend", "--router-mode", "kv", "--disagg-min-prefill-tokens", "32"},
                new String[] {"p", "worker", "--worker-mode", "prefill", "--kv-transfer-port", Integer.toString(transferPort),
                        "--advertise-kv-transfer-port", Integer.toString(prefillTransfers.port())},
                new String[] {"d", "worker", "--worker-mode", "decode", "--config", decodeConf.toString()})) {
            DISAGGREGATED.add(NodeProcess.create(n[0], n[1], etcd.endpoint(), nats.url(), "disagg", MODEL, MODEL_NAME,
                    List.of(n).subList(2, n.length)).start());
        }
        for (NodeProcess n : DISAGGREGATED) n.awaitReady(READY);
        awaitDisaggregation(DISAGGREGATED.get(0), DISAGGREGATED.get(2));
        return disaggregated();
    }

    private record Disaggregated(NodeProcess frontend, NodeProcess prefill, NodeProcess decode) {}

    @AfterAll
    static void stopDisaggregated() {
        DISAGGREGATED.forEach(NodeProcess::kill);
        DISAGGREGATED.clear();
        if (prefillTransfers != null) prefillTransfers.close();
    }

    private static final String DOCUMENT = "The archive holds letters, maps and ledgers from the harbour office. ";

    private static List<String> prompts() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) out.add(DOCUMENT.repeat(6 + i) + " Question " + i + ": what is in drawer " + i + "?");
        return out;
    }

    /**
     * Two prompts of their own text (nothing of them cached on the decode worker) and of about 22 blocks each, so
     * that their blocks outlast {@link #STALL_AFTER} bytes of the reply many times over.
     */
    private static List<String> killPrompts() {
        return List.of("The lighthouse keeper logs ships, storms and lamp oil every night. ".repeat(14) + " Which ship came last?",
                "Orchard records list apples, pears and plums by row and season. ".repeat(14) + " Which row gave most?");
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
        Map<String, Answer> aggregated = referenceAnswers();
        Disaggregated c = disaggregated();
        NodeProcess f = c.frontend(), prefill = c.prefill(), decode = c.decode();
        long prefillTokensBefore = prefill.stat("generatedTokens");
        long peerBlocksBefore = decode.stat("onboardedPeerBlocks");
        List<Answer> disaggregated = new ArrayList<>();
        for (String p : prompts()) disaggregated.add(ask(f, p));
        for (int i = 0; i < prompts().size(); i++) {
            assertEquals(aggregated.get(prompts().get(i)).text(), disaggregated.get(i).text(), "prompt " + i);
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
    void aPrefillWorkerKilledMidPrefillCostsTheRequestNothingButTime() throws Exception {
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
        CompletableFuture<Answer> answer = askAsync(f, prompt);
        MultiNodeClusterIT.await(() -> prefill.stat("runningRequests") > 0, Duration.ofSeconds(60),
                "the prefill worker never started the prompt");
        prefill.kill();
        Answer a = answer.get(180, TimeUnit.SECONDS);
        assertTrue(a.promptTokens() > 500);
        // at most the chat template's opening block, which the warm-up requests left cached
        assertTrue(a.cachedTokens() < a.promptTokens() / 10, "the decode worker computed the prompt itself, cached " + a.cachedTokens());
        MultiNodeClusterIT.await(() -> decode.stat("kvBlocksActive") == 0, Duration.ofSeconds(30),
                "the decode worker's KV usage did not return to idle");
        assertEquals(peerBlocks, decode.stat("onboardedPeerBlocks"), "nothing of the killed prefill arrived");
    }

    /** Reply bytes that reach the decode worker before the proxy holds back the rest: past the header, into the blocks. */
    private static final long STALL_AFTER = 64 * 1024;

    /**
     * SIGKILL of the prefill worker while two transfers of its blocks are under way, each stopped by the proxy after
     * the first {@link #STALL_AFTER} bytes of its reply. One connection then drops as a dead peer's does (the decode
     * worker reads the end of the stream at once); the other stays silent, as when the peer's host vanishes, until the
     * decode worker's transfer deadline ends it. Either way the decode worker imports nothing, computes the prompt
     * itself and answers with aggregated serving's greedy tokens; the failures are counted by reason, and its KV
     * cache is back to idle afterwards.
     */
    @Test
    @Order(4)
    void aPrefillWorkerKilledWhileItsBlocksAreOnTheWireCostsTheRequestsNothingButTime() throws Exception {
        Map<String, Answer> aggregated = referenceAnswers();
        Disaggregated c = disaggregated();
        NodeProcess decode = c.decode();
        long peerBlocks = decode.stat("onboardedPeerBlocks");
        long computedBefore = decode.stat("promptTokens") - decode.stat("prefixCacheHits");
        double droppedBefore = Math.max(0, failures(decode, "connection"));
        double deadlineBefore = Math.max(0, failures(decode, "deadline"));

        prefillTransfers.stallReplies(STALL_AFTER, TcpProxy.Fate.DROP, TcpProxy.Fate.SILENT);
        String dropPrompt = killPrompts().get(0);
        String silentPrompt = killPrompts().get(1);
        CompletableFuture<Answer> dropped = askAsync(c.frontend(), dropPrompt);
        prefillTransfers.awaitStalled(1, Duration.ofSeconds(60)); // in this order: the first to stall is dropped
        long silentSent = System.nanoTime();
        CompletableFuture<Answer> silent = askAsync(c.frontend(), silentPrompt);
        List<TcpProxy.Stalled> stalled = prefillTransfers.awaitStalled(2, Duration.ofSeconds(60));
        c.prefill().kill();

        Answer a = dropped.get(120, TimeUnit.SECONDS);
        Answer b = silent.get(120, TimeUnit.SECONDS);
        long silentNanos = System.nanoTime() - silentSent;
        assertEquals(aggregated.get(dropPrompt).text(), a.text(), "the request whose transfer dropped");
        assertEquals(aggregated.get(silentPrompt).text(), b.text(), "the request whose transfer went silent");
        for (TcpProxy.Stalled s : stalled) {
            assertEquals(STALL_AFTER, s.passedBytes(), s.fate() + ": the reply began");
            assertTrue(s.heldBytes() > 0, s.fate() + ": the rest of the reply was held back");
            assertTrue(s.targetClosed().isDone(), s.fate() + ": the prefill worker's end closed when it died");
        }
        // the silent connection ended only because the decode worker gave up on it: its transfer deadline
        stalled.get(1).clientClosed().get(30, TimeUnit.SECONDS);
        assertTrue(silentNanos >= TRANSFER_TIMEOUT.toNanos(), "the silent transfer's request waited for the deadline, took "
                + Duration.ofNanos(silentNanos));
        MultiNodeClusterIT.await(() -> failures(decode, "connection") == droppedBefore + 1
                        && failures(decode, "deadline") == deadlineBefore + 1, Duration.ofSeconds(15),
                "one remote prefill failed on the dropped connection, one at its deadline: connection "
                        + failures(decode, "connection") + ", deadline " + failures(decode, "deadline"));

        assertEquals(peerBlocks, decode.stat("onboardedPeerBlocks"), "nothing of the cut transfers was imported");
        for (Answer x : List.of(a, b)) {
            // at most the chat template's opening two blocks, every prompt's, cached by earlier requests
            assertTrue(x.cachedTokens() <= 32, "the decode worker computed the prompt itself, cached " + x.cachedTokens());
        }
        long computed = decode.stat("promptTokens") - decode.stat("prefixCacheHits") - computedBefore;
        assertTrue(computed >= a.promptTokens() + b.promptTokens() - 2 * 32,
                "the decode worker computed both prompts: " + computed + " tokens of " + (a.promptTokens() + b.promptTokens()));
        // idle again, in the engine and in the metrics sampled after both requests ended
        long generated = decode.stat("generatedTokens");
        MultiNodeClusterIT.await(() -> decode.stat("kvBlocksActive") == 0
                        && decode.metric("arbor_worker_generated_tokens_total") >= generated
                        && decode.metric("arbor_worker_kv_blocks_active") == 0
                        && decode.metric("arbor_worker_kv_cache_usage_ratio") == 0,
                Duration.ofSeconds(30), "the decode worker's KV usage did not return to idle");
    }

    private static double failures(NodeProcess worker, String reason) {
        return worker.metric("arbor_worker_kv_transfer_failures_total", "op=\"prefill\"", "reason=\"" + reason + "\"");
    }

    /** Asks on a thread of its own: the requests block until their transfers end, which the test itself brings about. */
    private static CompletableFuture<Answer> askAsync(NodeProcess frontend, String prompt) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return ask(frontend, prompt);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, r -> {
            Thread t = new Thread(r, "ask");
            t.setDaemon(true);
            t.start();
        });
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
