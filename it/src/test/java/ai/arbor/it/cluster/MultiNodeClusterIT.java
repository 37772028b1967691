package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.cluster.cli.ServeCommand;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.it.support.ClusterProcesses;
import ai.arbor.it.support.NodeProcess;
import ai.arbor.it.support.OpenAiCalls;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Real clusters: Debian's etcd and nats-server, and every node its own JVM started with {@code arbor node}, serving
 * the tiny model on CPU. Embeddings go from a frontend process to a worker process and equal {@code arbor serve}'s.
 */
class MultiNodeClusterIT extends ClusterProcesses {
    private static Path model() {
        Path p = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) throw new IllegalStateException("tiny model missing at " + p);
        return p;
    }

    private NodeProcess node(String cluster, String name, String roles, String... extra) {
        // These tests are about membership, migration and draining: frontends spread by load, so that a rejoined worker
        // takes the next request (the kv default would keep sending repeated prompts to the worker that cached them).
        List<String> args = new ArrayList<>(List.of(extra));
        if (roles.contains("frontend")) args.addAll(List.of("--router-mode", "least-loaded"));
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), cluster, model(), MODEL_NAME, args);
        nodes.add(n);
        return n;
    }

    /**
     * The cluster frontend routes embeddings to a worker process: the vectors (official SDK, floats and base64) are
     * exactly those {@code arbor serve} gives in this JVM for the same inputs, and its errors are the same 400s.
     */
    private static void embeddingsAreThoseServeGives(NodeProcess frontend) throws Exception {
        List<String> inputs = List.of("The early bird gets the worm.", "You will travel far.", "x");
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.model", model().toString(),
                "arbor.served-model-name", MODEL_NAME, "arbor.port", 0, "arbor.engine.kv-cache-memory", "64MiB"),
                null, Map.of()));
        List<List<Float>> expected;
        try (ServeCommand.Running serve = ServeCommand.start(s)) {
            OpenAIClient local = client(serve.node().url());
            try {
                expected = vectors(local.embeddings().create(EmbeddingCreateParams.builder().model(MODEL_NAME)
                        .inputOfArrayOfStrings(inputs).build()));
            } finally {
                local.close();
            }
        }
        OpenAIClient cluster = client(frontend.httpUrl());
        try {
            CreateEmbeddingResponse r = cluster.embeddings().create(EmbeddingCreateParams.builder().model(MODEL_NAME)
                    .inputOfArrayOfStrings(inputs).build());
            assertEquals(expected, vectors(r));
            assertTrue(r.usage().promptTokens() > inputs.size(), "usage counts the input tokens: " + r.usage());
            CreateEmbeddingResponse b64 = cluster.embeddings().create(EmbeddingCreateParams.builder().model(MODEL_NAME)
                    .input(inputs.get(1)).encodingFormat(EmbeddingCreateParams.EncodingFormat.BASE64).build());
            assertEquals(expected.get(1), vectors(b64).get(0), "the SDK decodes base64 to the same floats");
            BadRequestException dims = assertThrows(BadRequestException.class, () -> cluster.embeddings().create(
                    EmbeddingCreateParams.builder().model(MODEL_NAME).input("x").dimensions(64).build()));
            assertEquals("dimensions", dims.param().orElseThrow());
            BadRequestException empty = assertThrows(BadRequestException.class, () -> cluster.embeddings().create(
                    EmbeddingCreateParams.builder().model(MODEL_NAME).inputOfArrayOfStrings(List.of("a", "")).build()));
            assertEquals("input", empty.param().orElseThrow());
        } finally {
            cluster.close();
        }
    }

    private static OpenAIClient client(String url) {
        return OpenAIOkHttpClient.builder().baseUrl(url + "/v1").apiKey("unused").maxRetries(0).build();
    }

    private static List<List<Float>> vectors(CreateEmbeddingResponse r) {
        return r.data().stream().map(e -> e.embedding().stream().map(Number::floatValue).toList()).toList();
    }

    private static void awaitAllReady(NodeProcess... ns) {
        for (NodeProcess n : ns) n.awaitReady(READY);
    }

    @Test
    void frontendsServeWorkersAndAStreamSurvivesAWorkerKilledMidway() throws Exception {
        String cluster = "serve";
        NodeProcess f1 = node(cluster, "f1", "frontend");
        NodeProcess w1 = node(cluster, "w1", "worker");
        NodeProcess w2 = node(cluster, "w2", "worker");
        f1.start();
        w1.start();
        w2.start();
        awaitAllReady(f1, w1, w2);
        awaitUpMembers(f1, 3);

        await(() -> NodeProcess.get(f1.httpUrl() + "/v1/models").body().contains("\"" + MODEL_NAME + "\""),
                Duration.ofSeconds(30), "frontend never listed the model");
        var r = OpenAiCalls.post(f1.httpUrl() + "/v1/chat/completions", OpenAiCalls.chatBody(MODEL_NAME, "hello", 8, false));
        assertEquals(200, r.status(), r.body());
        assertEquals(404, OpenAiCalls.post(f1.httpUrl() + "/v1/chat/completions",
                OpenAiCalls.chatBody("no-such-model", "hello", 8, false)).status());
        embeddingsAreThoseServeGives(f1);

        // A second frontend serves the same workers.
        NodeProcess f2 = node(cluster, "f2", "frontend").start();
        awaitAllReady(f2);
        awaitUpMembers(f1, 4);
        r = OpenAiCalls.post(f2.httpUrl() + "/v1/chat/completions", OpenAiCalls.chatBody(MODEL_NAME, "hi there", 8, false));
        assertEquals(200, r.status(), r.body());

        // kill -9 of the worker serving a streamed request: the stream completes on the other worker.
        int maxTokens = 400;
        Iterator<String> lines = OpenAiCalls.stream(f1.httpUrl() + "/v1/chat/completions",
                OpenAiCalls.chatBody(MODEL_NAME, "tell me a long story", maxTokens, true)).iterator();
        assertNotNull(OpenAiCalls.nextEvent(lines));
        NodeProcess busy = null;
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (busy == null && System.nanoTime() < until) {
            for (NodeProcess w : List.of(w1, w2)) {
                if (NodeProcess.get(w.managementUrl() + "/arbor/node").body().matches("(?s).*\"runningRequests\":[1-9].*")) busy = w;
            }
        }
        assertNotNull(busy, "no worker reported the streamed request as running");
        busy.kill();
        JsonNode last = null;
        String finishReason = null;
        for (JsonNode e; (e = OpenAiCalls.nextEvent(lines)) != null; last = e) {
            assertFalse(e.has("error"), "stream ended with an error: " + e);
            JsonNode choices = e.path("choices");
            if (choices.size() > 0 && !choices.get(0).path("finish_reason").isNull() && choices.get(0).has("finish_reason")) {
                finishReason = choices.get(0).path("finish_reason").asText();
            }
        }
        assertEquals("length", finishReason, "stream did not finish normally");
        assertNotNull(last);
        assertEquals(maxTokens, last.path("usage").path("completion_tokens").asInt(), "usage after migration: " + last);

        // The killed worker restarts, rejoins and takes traffic again.
        NodeProcess restarted = busy;
        restarted.start();
        awaitAllReady(restarted);
        awaitUpMembers(f1, 4);
        await(() -> {
            OpenAiCalls.post(f1.httpUrl() + "/v1/chat/completions", OpenAiCalls.chatBody(MODEL_NAME, "again", 4, false));
            return NodeProcess.get(restarted.managementUrl() + "/arbor/node").body().matches("(?s).*\"generatedTokens\":[1-9].*");
        }, Duration.ofSeconds(60), "restarted worker never took a request");

        // SIGTERM drains a worker: the request it is running completes there (no migration), then it leaves the
        // cluster and its etcd keys go at once.
        long movesBefore = countLines(f1, "moves to another worker");
        Iterator<String> drained = OpenAiCalls.stream(f1.httpUrl() + "/v1/chat/completions",
                OpenAiCalls.chatBody(MODEL_NAME, "one more story", 48, true)).iterator();
        assertNotNull(OpenAiCalls.nextEvent(drained));
        NodeProcess stopping = null;
        until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (stopping == null && System.nanoTime() < until) {
            for (NodeProcess w : List.of(w1, w2)) {
                if (NodeProcess.get(w.managementUrl() + "/arbor/node").body().matches("(?s).*\"runningRequests\":[1-9].*")) stopping = w;
            }
        }
        assertNotNull(stopping, "no worker reported the second streamed request as running");
        stopping.terminate(Duration.ofSeconds(45));
        assertFalse(stopping.isAlive(), "worker did not exit after SIGTERM");
        finishReason = null;
        for (JsonNode e; (e = OpenAiCalls.nextEvent(drained)) != null; last = e) {
            assertFalse(e.has("error"), "drained stream ended with an error: " + e);
            JsonNode choices = e.path("choices");
            if (choices.size() > 0 && choices.get(0).hasNonNull("finish_reason")) finishReason = choices.get(0).get("finish_reason").asText();
        }
        assertEquals("length", finishReason);
        assertEquals(48, last.path("usage").path("completion_tokens").asInt());
        assertEquals(movesBefore, countLines(f1, "moves to another worker"), "a drained request must not migrate");
        try (var client = ai.arbor.cluster.etcd.EtcdClients.connect(ai.arbor.cluster.etcd.EtcdClients.parseEndpoints(etcd.endpoint()))) {
            long keys = client.getKVClient().get(ai.arbor.cluster.etcd.EtcdClients.bytes(
                    ai.arbor.cluster.etcd.EtcdKeys.node(cluster, stopping.remotingAddress()))).get().getCount();
            assertEquals(0, keys, "a drained worker's node key outlived it");
        }
    }

    private static long countLines(NodeProcess n, String text) throws java.io.IOException {
        try (var lines = Files.lines(n.log())) {
            return lines.filter(l -> l.contains(text)).count();
        }
    }

    @Test
    void aRunningClusterKeepsServingWithoutEtcdAndNewNodesJoinWhenItIsBack() throws Exception {
        String cluster = "outage";
        NodeProcess f = node(cluster, "f", "frontend");
        NodeProcess w = node(cluster, "w", "worker");
        f.start();
        w.start();
        awaitAllReady(f, w);
        awaitUpMembers(f, 2);
        await(() -> OpenAiCalls.post(f.httpUrl() + "/v1/chat/completions", OpenAiCalls.chatBody(MODEL_NAME, "x", 4, false)).status() == 200,
                Duration.ofSeconds(30), "cluster never served");

        etcd.stop();
        NodeProcess late = node(cluster, "late", "worker").start();
        long outageEnd = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < outageEnd) {
            var r = OpenAiCalls.post(f.httpUrl() + "/v1/chat/completions", OpenAiCalls.chatBody(MODEL_NAME, "during outage", 4, false));
            assertEquals(200, r.status(), "request failed while etcd was down: " + r.body());
            assertTrue(NodeProcess.get(f.httpUrl() + "/v1/models").body().contains(MODEL_NAME));
            Thread.sleep(3000);
        }
        assertEquals(200, NodeProcess.get(f.managementUrl() + "/ready").status());
        etcd.startAgain();

        // The node started during the outage could not find anyone; now it does and joins the running cluster.
        late.awaitReady(READY);
        awaitUpMembers(f, 3);
    }

    @Test
    void nodesStartedTogetherFormOneCluster() {
        for (int round = 0; round < 2; round++) {
            String cluster = "together" + round;
            List<NodeProcess> group = List.of(node(cluster, "a", "frontend"), node(cluster, "b", "frontend"),
                    node(cluster, "c", "frontend"));
            group.forEach(NodeProcess::start);
            group.forEach(n -> n.awaitReady(READY));
            Set<String> leaders = new HashSet<>();
            for (NodeProcess n : group) {
                awaitUpMembers(n, 3);
                leaders.add(OpenAiCalls.json(NodeProcess.get(n.managementUrl() + "/cluster/members").body()).path("leader").asText());
            }
            assertEquals(1, leaders.size(), "nodes disagree on the leader: " + leaders);
            stopNodes();
        }
    }

    private static void awaitUpMembers(NodeProcess n, int expected) {
        await(() -> {
            var r = NodeProcess.get(n.managementUrl() + "/cluster/members");
            if (r.status() != 200) return false;
            JsonNode members = OpenAiCalls.json(r.body()).path("members");
            int up = 0;
            for (JsonNode m : members) if ("Up".equals(m.path("status").asText())) up++;
            return up == expected && members.size() == expected
                    && OpenAiCalls.json(r.body()).path("unreachable").size() == 0;
        }, Duration.ofSeconds(60), n.name() + " never saw " + expected + " Up members: "
                + NodeProcess.get(n.managementUrl() + "/cluster/members").body());
    }

    static void await(BooleanSupplier condition, Duration timeout, String message) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return;
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(message);
            }
        }
        assertTrue(condition.getAsBoolean(), message);
    }
}
