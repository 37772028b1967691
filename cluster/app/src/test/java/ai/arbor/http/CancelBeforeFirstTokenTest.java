package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that hangs up while its request still waits for the first token stops the request at the engine then,
 * not when a first token would have come (which, behind a long queue, was minutes later). An embedding whose client
 * hangs up is given up the same way, long before its deadline (the default request timeout, 600 s).
 */
class CancelBeforeFirstTokenTest {
    static final Duration TIMEOUT = Duration.ofSeconds(10);
    static SingleNode node;
    static GatedEngine engine;

    @BeforeAll
    static void start() throws Exception {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.served-model-name",
                "synthetic"), null, Map.of()));
        ByteTokenizer tok = new ByteTokenizer();
        engine = new GatedEngine(new SyntheticEngine(512, 16, tok.eosTokenIds()));
        node = SingleNode.start(s, new SingleNode.ModelSpec(tok, 512, SamplingDefaults.none()), engine);
    }

    @AfterAll
    static void stop() { node.close(); }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    void hangUpBeforeTheFirstToken(boolean stream, int n) throws Exception {
        int abortedBefore = engine.abortedWhileHeld();
        String body = "{\"model\":\"synthetic\",\"prompt\":\"hello\",\"max_tokens\":50,\"n\":" + n + ",\"stream\":"
                + stream + "}";
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.getOutputStream().write(RawHttp.post("/v1/completions", "application/json", body)
                    .getBytes(StandardCharsets.ISO_8859_1));
            await(() -> engine.held() == n, n + " sequences wait at the engine");
            assertEquals(1, node.server().admission().inFlight());
        }
        // no token ever comes: only the hang-up can end these
        await(() -> engine.abortedWhileHeld() == abortedBefore + n && engine.held() == 0,
                "the engine was told to abort all " + n);
        await(() -> node.server().admission().inFlight() == 0, "the admission slot is free");
    }

    @Test
    void aNonStreamingClientThatHangsUpBeforeTheFirstTokenStopsItsRequest() throws Exception {
        hangUpBeforeTheFirstToken(false, 1);
    }

    @Test
    void aStreamingClientWithSeveralChoicesToo() throws Exception {
        hangUpBeforeTheFirstToken(true, 3);
    }

    /** Requests the model's router still counts, as /health reports them. */
    static int routedRequests(SingleNode node) throws Exception {
        RawHttp.Response health = RawHttp.exchange(node.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", TIMEOUT);
        assertEquals(200, health.status(), health.body());
        return health.json().at("/models/0/active_requests").asInt();
    }

    @Test
    void anEmbeddingClientThatHangsUpGivesItsEmbeddingUp() throws Exception {
        int droppedBefore = engine.droppedEmbeddings();
        String body = "{\"model\":\"synthetic\",\"input\":[\"hello\",\"world\"]}";
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.getOutputStream().write(RawHttp.post("/v1/embeddings", "application/json", body)
                    .getBytes(StandardCharsets.ISO_8859_1));
            await(() -> engine.heldEmbeddings() == 1, "the embedding waits at the engine");
            assertEquals(1, node.server().admission().inFlight());
            assertEquals(1, node.server().budget().sequencesInFlight());
            assertEquals(10, node.server().budget().tokensInFlight("synthetic"));
            assertEquals(1, routedRequests(node));
        }
        // the engine never answers: only the hang-up can end it
        await(() -> node.server().admission().inFlight() == 0 && node.server().budget().sequencesInFlight() == 0
                && node.server().budget().tokensInFlight("synthetic") == 0, "admission and budget are free");
        await(() -> engine.droppedEmbeddings() == droppedBefore + 1 && engine.heldEmbeddings() == 0,
                "the worker dropped the job it held");
        awaitNothingRouted(node);
    }

    /** Waits until the model's router counts no request, as /health reports it. */
    static void awaitNothingRouted(SingleNode node) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (routedRequests(node) != 0) {
            if (System.nanoTime() > deadline) throw new AssertionError("the router still counts a request");
            Thread.sleep(5);
        }
    }
}
