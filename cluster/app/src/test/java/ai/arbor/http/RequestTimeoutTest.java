package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pekko's request timeout (no first token in time) answers in OpenAI's error shape too, not Pekko's plain text, and
 * naming the setting. An embedding that no worker answers ends there too, giving back what it held.
 */
class RequestTimeoutTest {

    private static SingleNode start(GatedEngine engine, ByteTokenizer tok) {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.served-model-name",
                "synthetic", "pekko.http.server.request-timeout", "1s"), null, Map.of()));
        return SingleNode.start(s, new SingleNode.ModelSpec(tok, 512, SamplingDefaults.none()), engine);
    }

    @Test
    void aRequestWithNoAnswerInTimeIs503Json() throws Exception {
        ByteTokenizer tok = new ByteTokenizer();
        GatedEngine engine = new GatedEngine(new SyntheticEngine(512, 16, tok.eosTokenIds()));
        try (SingleNode node = start(engine, tok)) {
            RawHttp.Response r = RawHttp.exchange(node.port(), RawHttp.post("/v1/completions", "application/json",
                    "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":2}"), CancelBeforeFirstTokenTest.TIMEOUT);
            r.assertOpenAiError(503);
            assertEquals("timeout", r.json().at("/error/code").asText(), r.body());
            assertTrue(r.body().contains("pekko.http.server.request-timeout, 1s"), r.body());
        }
    }

    @Test
    void anEmbeddingWhoseEngineNeverAnswersEndsAtTheRequestTimeout() throws Exception {
        ByteTokenizer tok = new ByteTokenizer();
        GatedEngine engine = new GatedEngine(new SyntheticEngine(512, 16, tok.eosTokenIds()));
        try (SingleNode node = start(engine, tok); Socket s = new Socket("127.0.0.1", node.port())) {
            long t0 = System.nanoTime();
            s.getOutputStream().write(RawHttp.post("/v1/embeddings", "application/json",
                    "{\"model\":\"synthetic\",\"input\":\"hello\"}").getBytes(StandardCharsets.ISO_8859_1));
            s.setSoTimeout((int) CancelBeforeFirstTokenTest.TIMEOUT.toMillis());
            RawHttp.Response r = RawHttp.read(s.getInputStream());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            r.assertOpenAiError(503);
            assertEquals("timeout", r.json().at("/error/code").asText(), r.body());
            assertTrue(r.body().contains("pekko.http.server.request-timeout, 1s"), r.body());
            // the deadline is 1 s; the rest is slack for a loaded 2-core machine
            assertTrue(ms >= 900 && ms < 5000, "answered after " + ms + " ms");
            // the embedding's own deadline answered, not Pekko's timer (which closes the connection, and so would end
            // the embedding as a hang-up): it gave back the slot, the budget and the route, and the worker dropped the job
            CancelBeforeFirstTokenTest.await(() -> node.server().admission().inFlight() == 0
                    && node.server().budget().sequencesInFlight() == 0
                    && node.server().budget().tokensInFlight("synthetic") == 0, "admission and budget are free");
            CancelBeforeFirstTokenTest.await(() -> engine.droppedEmbeddings() == 1 && engine.heldEmbeddings() == 0,
                    "the worker dropped the job it held");
            CancelBeforeFirstTokenTest.awaitNothingRouted(node);
            s.getOutputStream().write("GET /live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertEquals(200, RawHttp.read(s.getInputStream()).status(), "the connection was open all along");
        }
    }
}
