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
 * not when a first token would have come (which, behind a long queue, was minutes later).
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
}
