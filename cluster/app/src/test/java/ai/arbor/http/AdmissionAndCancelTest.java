package ai.arbor.http;

import ai.arbor.cluster.serve.SingleNode;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.actors.synthetic.ByteTokenizer;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Limits that need requests to stay in flight: an engine that takes 2 ms per step keeps a 1000-token request busy
 * for about two seconds.
 */
class AdmissionAndCancelTest {
    static SingleNode node;
    static SyntheticEngine engine;

    @BeforeAll
    static void start() throws Exception {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.served-model-name",
                "synthetic", "arbor.frontend.max-queued-requests", 2, "arbor.frontend.retry-after", "3s"), null, Map.of()));
        ByteTokenizer tok = new ByteTokenizer();
        engine = new SyntheticEngine(4096, 16, tok.eosTokenIds(), TimeUnit.MILLISECONDS.toNanos(2));
        node = SingleNode.start(s, new SingleNode.ModelSpec(tok, 4096, SamplingDefaults.none()), engine);
        SyntheticServers.awaitHealthy(node);
    }

    @AfterAll
    static void stop() { node.close(); }

    /** Opens a streaming request on a raw socket and reads until the first SSE event arrived. */
    static Socket openStream(int maxTokens) throws Exception {
        Socket s = new Socket("127.0.0.1", node.port());
        String body = "{\"model\":\"synthetic\",\"prompt\":\"abcdefgh\",\"max_tokens\":" + maxTokens + ",\"stream\":true}";
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        assertTrue(in.readLine().startsWith("HTTP/1.1 200"));
        String line;
        while ((line = in.readLine()) != null && !line.contains("data: ")) { /* headers, chunk sizes */ }
        assertNotNull(line, "got a first event");
        return s;
    }

    @Test
    void aNonStreamingClientThatHangsUpCancelsToo() throws Exception {
        long tokensBefore = engine.stats().generatedTokens();
        Socket s = new Socket("127.0.0.1", node.port());
        String body = "{\"model\":\"synthetic\",\"prompt\":\"abcdefgh\",\"max_tokens\":1500}";
        s.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (engine.stats().runningRequests() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(1, engine.stats().runningRequests());
        s.close();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (engine.stats().runningRequests() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(0, engine.stats().runningRequests());
        assertTrue(engine.stats().generatedTokens() - tokensBefore < 1000,
                "cancelled early: " + (engine.stats().generatedTokens() - tokensBefore));
    }

    @Test
    void overTheQueueLimitIs429WithRetryAfterAndDisconnectsCancel() throws Exception {
        long tokensBefore = engine.stats().generatedTokens();
        List<Socket> open = new ArrayList<>();
        open.add(openStream(1000));
        open.add(openStream(1000));
        var r = SyntheticServers.post(node, "/v1/completions", "{\"model\":\"synthetic\",\"prompt\":\"a\"}");
        OpenAiHttpTest.assertError(r, 429, null);
        assertEquals("3", r.headers().firstValue("retry-after").orElse(null));

        // hang up both: their generations stop long before 1000 tokens, their KV blocks are freed
        for (Socket s : open) s.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (engine.stats().runningRequests() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(0, engine.stats().runningRequests());
        assertEquals(0, engine.stats().kvBlocksActive());
        assertTrue(engine.stats().generatedTokens() - tokensBefore < 1500,
                "cancelled well before 2 x 1000 tokens: " + (engine.stats().generatedTokens() - tokensBefore));

        // and their admission slots are free again
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (node.server().admission().inFlight() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(200, SyntheticServers.post(node, "/v1/completions",
                "{\"model\":\"synthetic\",\"prompt\":\"a\",\"max_tokens\":2}").statusCode());
    }
}
