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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Disaggregated serving across processes (real etcd and NATS): a frontend in router mode kv, a worker in mode
 * {@code prefill} and one in mode {@code decode}. The prefill worker computes the prompt, its blocks move to the decode
 * worker over the KV transfer stream, and the decode worker streams the tokens: the same greedy tokens as one
 * aggregated worker gives. A prefill worker killed with SIGKILL mid-prefill costs the request nothing but time.
 */
class DisaggregatedServingIT extends ClusterProcesses {
    private static final Path MODEL = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();

    private NodeProcess node(String cluster, String name, String roles, String... extra) {
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), cluster, MODEL, MODEL_NAME, List.of(extra));
        nodes.add(n);
        return n.start();
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

    @Test
    void prefillAndDecodeWorkersGiveTheTokensOfAggregatedServing() throws Exception {
        NodeProcess f1 = node("agg", "f", "frontend", "--router-mode", "kv");
        NodeProcess w = node("agg", "w", "worker");
        for (NodeProcess n : List.of(f1, w)) n.awaitReady(READY);
        awaitWorkers(f1, 1);
        List<Answer> aggregated = new ArrayList<>();
        for (String p : prompts()) aggregated.add(ask(f1, p));
        stopNodes();

        NodeProcess f = node("disagg", "f", "frontend", "--router-mode", "kv", "--disagg-min-prefill-tokens", "32");
        NodeProcess prefill = node("disagg", "p", "worker", "--worker-mode", "prefill");
        NodeProcess decode = node("disagg", "d", "worker", "--worker-mode", "decode");
        for (NodeProcess n : List.of(f, prefill, decode)) n.awaitReady(READY);
        awaitDisaggregation(f, decode);
        long prefillTokensBefore = stat(prefill, "generatedTokens");
        long peerBlocksBefore = stat(decode, "onboardedPeerBlocks");
        List<Answer> disaggregated = new ArrayList<>();
        for (String p : prompts()) disaggregated.add(ask(f, p));
        for (int i = 0; i < aggregated.size(); i++) {
            assertEquals(aggregated.get(i).text(), disaggregated.get(i).text(), "prompt " + i);
            Answer d = disaggregated.get(i);
            // the decode worker got every full block of the prompt from the prefill worker
            assertTrue(d.cachedTokens() >= d.promptTokens() - 16, "prompt " + i + ": cached " + d.cachedTokens()
                    + " of " + d.promptTokens());
        }
        assertTrue(stat(decode, "onboardedPeerBlocks") > peerBlocksBefore, "the decode worker took blocks from its peer");
        assertEquals(prompts().size(), stat(prefill, "generatedTokens") - prefillTokensBefore,
                "the prefill worker computed each prompt (one token each), and decoded nothing");
    }

    @Test
    void aPrefillWorkerKilledMidTransferCostsTheRequestNothingButTime() throws Exception {
        Path slow = Files.createTempFile("slow-prefill", ".conf");
        // 8-token steps: the prefill of a long prompt takes long enough to be caught in the act
        Files.writeString(slow, "arbor { engine { max-num-batched-tokens = 8 } }\n");
        NodeProcess f = node("kill", "f", "frontend", "--router-mode", "kv", "--disagg-min-prefill-tokens", "32");
        NodeProcess prefill = node("kill", "p", "worker", "--worker-mode", "prefill", "--config", slow.toString());
        NodeProcess decode = node("kill", "d", "worker", "--worker-mode", "decode");
        for (NodeProcess n : List.of(f, prefill, decode)) n.awaitReady(READY);
        awaitDisaggregation(f, decode);
        long peerBlocks = stat(decode, "onboardedPeerBlocks");
        String prompt = DOCUMENT.repeat(60) + " What is in the archive?";
        CompletableFuture<Answer> answer = CompletableFuture.supplyAsync(() -> {
            try {
                return ask(f, prompt);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        MultiNodeClusterIT.await(() -> stat(prefill, "runningRequests") > 0, Duration.ofSeconds(60),
                "the prefill worker never started the prompt");
        prefill.kill();
        Answer a = answer.get(180, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(a.promptTokens() > 500);
        // at most the chat template's opening block, which the warm-up requests left cached
        assertTrue(a.cachedTokens() < a.promptTokens() / 10, "the decode worker computed the prompt itself, cached " + a.cachedTokens());
        MultiNodeClusterIT.await(() -> stat(decode, "kvBlocksActive") == 0, Duration.ofSeconds(30),
                "the decode worker's KV usage did not return to idle");
        assertEquals(peerBlocks, stat(decode, "onboardedPeerBlocks"), "nothing of the killed prefill arrived");
    }

    /**
     * Waits until the frontend has found the prefill worker (its own Receptionist key) and its endpoint: short
     * warm-up requests, each with its own text, until one was prefilled remotely.
     */
    private static void awaitDisaggregation(NodeProcess f, NodeProcess decode) throws Exception {
        awaitWorkers(f, 1);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        for (int i = 0; stat(decode, "onboardedPeerBlocks") <= 0; i++) {
            assertTrue(System.nanoTime() < deadline, "no request was ever prefilled by the prefill worker");
            ask(f, ("Warm-up " + i + " of the cluster, with enough words to reach the threshold. ").repeat(4));
        }
    }

    private static long stat(NodeProcess worker, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(NodeProcess.get(worker.managementUrl() + "/arbor/node").body());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

}
