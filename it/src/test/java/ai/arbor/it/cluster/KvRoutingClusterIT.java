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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * KV-aware routing across processes: workers publish their engines' KV events to a real {@code nats-server -js},
 * a frontend in router mode {@code kv} indexes them and sends requests to the worker that has their prefix cached.
 */
class KvRoutingClusterIT extends ClusterProcesses {
    private NodeProcess node(String name, String roles, String... extra) {
        Path model = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), "kv", model, MODEL_NAME, List.of(extra));
        nodes.add(n);
        return n.start();
    }

    @Test
    void requestsSharingAPrefixGoToTheWorkerThatCachedIt() throws Exception {
        NodeProcess f = node("f", "frontend", "--router-mode", "kv");
        NodeProcess w1 = node("w1", "worker");
        NodeProcess w2 = node("w2", "worker");
        for (NodeProcess n : List.of(f, w1, w2)) n.awaitReady(READY);
        MultiNodeClusterIT.await(() -> NodeProcess.get(f.httpUrl() + "/health").body().contains("\"workers\":2"),
                Duration.ofSeconds(60), "frontend never saw both workers");

        // a long shared document, then a different question each time; sent one after the other, so least-loaded
        // routing would alternate between the two workers and find nothing cached on the second
        String document = "The archive holds letters, maps and ledgers from the harbour office. ".repeat(20);
        List<Integer> cached = new ArrayList<>();
        List<Integer> prompt = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            var r = OpenAiCalls.post(f.httpUrl() + "/v1/chat/completions",
                    OpenAiCalls.chatBody(MODEL_NAME, document + " Question " + i + ": what is in drawer " + i + "?", 4, false));
            assertEquals(200, r.status(), r.body());
            JsonNode usage = OpenAiCalls.json(r.body()).path("usage");
            prompt.add(usage.path("prompt_tokens").asInt());
            cached.add(usage.path("prompt_tokens_details").path("cached_tokens").asInt());
        }
        for (int i = 1; i < 4; i++) {
            assertTrue(cached.get(i) >= prompt.get(i) * 8 / 10,
                    "request " + i + " should find the document cached: cached " + cached + " of prompts " + prompt);
        }
        long busy = List.of(w1, w2).stream().filter(w -> generatedTokens(w) > 0).count();
        assertEquals(1, busy, "all four requests should have run on the worker holding the document");
        assertTrue(logCount(f, "routes in mode kv") == 1, "frontend did not start in kv mode");
    }

    private static int generatedTokens(NodeProcess worker) {
        Matcher m = Pattern.compile("\"generatedTokens\":(\\d+)").matcher(NodeProcess.get(worker.managementUrl() + "/arbor/node").body());
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    private static long logCount(NodeProcess n, String text) throws java.io.IOException {
        try (var lines = Files.lines(n.log())) {
            return lines.filter(l -> l.contains(text)).count();
        }
    }
}
