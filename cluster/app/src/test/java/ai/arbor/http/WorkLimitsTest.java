package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.actors.synthetic.SyntheticEngine;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bounded work per request: admission counts sequences and tokens, size limits act before the tokenizer runs, and
 * stop strings are bounded. Requests in flight wait at a closed engine gate, so nothing here depends on timing.
 */
class WorkLimitsTest {
    static SingleNode node;
    static GatedEngine engine;
    static CountingTokenizer tok;

    @BeforeAll
    static void start() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 0, "arbor.served-model-name",
                "synthetic", "arbor.frontend.retry-after", "3s",
                "arbor.frontend.limits.max-sequences-per-request", 16, "arbor.frontend.limits.max-queued-sequences", 8,
                "arbor.frontend.limits.max-queued-tokens", 1000, "arbor.frontend.limits.max-stop-strings", 4,
                "arbor.frontend.limits.max-stop-string-bytes", 16), null, Map.of()));
        tok = new CountingTokenizer();
        engine = new GatedEngine(new SyntheticEngine(4096, 16, tok.eosTokenIds()));
        node = SingleNode.start(s, new SingleNode.ModelSpec(tok, 4096, SamplingDefaults.none()), engine);
    }

    @AfterAll
    static void stop() { node.close(); }

    static RawHttp.Response post(String body) throws Exception {
        return RawHttp.exchange(node.port(), RawHttp.post("/v1/completions", "application/json", body),
                CancelBeforeFirstTokenTest.TIMEOUT);
    }

    /** Sends a request that then waits at the gate, holding its share; closing the socket ends it. */
    static Socket hold(String body, int sequences) throws Exception {
        int before = engine.held();
        Socket s = new Socket("127.0.0.1", node.port());
        s.getOutputStream().write(RawHttp.post("/v1/completions", "application/json", body)
                .getBytes(StandardCharsets.ISO_8859_1));
        CancelBeforeFirstTokenTest.await(() -> engine.held() == before + sequences, "the request waits at the engine");
        return s;
    }

    static void release(Socket s) throws Exception {
        s.close();
        CancelBeforeFirstTokenTest.await(() -> engine.held() == 0 && node.server().admission().inFlight() == 0,
                "the held request ended");
    }

    @Test
    void manyPromptsTimesNIs400BeforeAnyTokenizing() throws Exception {
        long before = tok.encodedChars.get();
        StringBuilder prompts = new StringBuilder("[");
        for (int i = 0; i < 1000; i++) prompts.append(i == 0 ? "" : ",").append("\"prompt number ").append(i).append('"');
        var r = post("{\"model\":\"synthetic\",\"prompt\":" + prompts + "],\"n\":128,\"max_tokens\":1}");
        r.assertOpenAiError(400);
        assertEquals("prompt", r.json().at("/error/param").asText());
        assertTrue(r.body().contains("128000 sequences"), r.body());
        r = post("{\"model\":\"synthetic\",\"prompt\":\"hi\",\"n\":17,\"max_tokens\":1}");
        r.assertOpenAiError(400);
        assertEquals("n", r.json().at("/error/param").asText());
        assertEquals(before, tok.encodedChars.get(), "nothing was tokenized");
    }

    @Test
    void aPromptLongerThanTheContextCanHoldIsRefusedFromItsBytesAlone() throws Exception {
        long before = tok.encodedChars.get();
        String huge = "a".repeat(4_000_000);
        var r = post("{\"model\":\"synthetic\",\"prompt\":\"" + huge + "\",\"max_tokens\":1}");
        r.assertOpenAiError(400);
        assertEquals("context_length_exceeded", r.json().at("/error/code").asText());
        var chat = RawHttp.exchange(node.port(), RawHttp.post("/v1/chat/completions", "application/json",
                "{\"model\":\"synthetic\",\"messages\":[{\"role\":\"user\",\"content\":\"" + huge.substring(0, 200_000)
                        + "\"}]}"), CancelBeforeFirstTokenTest.TIMEOUT);
        chat.assertOpenAiError(400);
        assertEquals("messages", chat.json().at("/error/param").asText());
        assertEquals(before, tok.encodedChars.get(), "the tokenizer never saw them");
    }

    @Test
    void stopStringsAreBounded() throws Exception {
        var r = post("{\"model\":\"synthetic\",\"prompt\":\"hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}");
        r.assertOpenAiError(400);
        assertEquals("stop", r.json().at("/error/param").asText());
        r = post("{\"model\":\"synthetic\",\"prompt\":\"hi\",\"stop\":\"" + "s".repeat(17) + "\"}");
        r.assertOpenAiError(400);
        assertEquals("stop", r.json().at("/error/param").asText());
        r = post("{\"model\":\"synthetic\",\"prompt\":\"hi\",\"stop_token_ids\":[1,2,3,4,5]}");
        r.assertOpenAiError(400);
        assertEquals("stop_token_ids", r.json().at("/error/param").asText());
    }

    @Test
    void sequencesInFlightAreCountedNotRequests() throws Exception {
        Socket eight = hold("{\"model\":\"synthetic\",\"prompt\":\"hello\",\"n\":8,\"max_tokens\":10}", 8);
        try {
            var r = post("{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":1}");
            r.assertOpenAiError(429);
            assertEquals("3", r.headers().get("retry-after"));
            assertEquals("rate_limit_error", r.json().at("/error/type").asText());
            assertTrue(r.body().contains("sequences"), r.body());
        } finally {
            release(eight);
        }
        release(hold("{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":1}", 1));
    }

    @Test
    void tokensQueuedPerModelAreBounded() throws Exception {
        // 5 prompt + 600 output tokens of 1000
        Socket first = hold("{\"model\":\"synthetic\",\"prompt\":\"hello\",\"max_tokens\":600}", 1);
        try {
            var r = post("{\"model\":\"synthetic\",\"prompt\":\"hello\",\"max_tokens\":600}");
            r.assertOpenAiError(429);
            assertNotNull(r.headers().get("retry-after"));
            assertTrue(r.body().contains("tokens queued"), r.body());
        } finally {
            release(first);
        }
        // one that could never fit is a 400, not a 429 to retry forever
        var r = post("{\"model\":\"synthetic\",\"prompt\":\"hello\",\"n\":4,\"max_tokens\":300}");
        r.assertOpenAiError(400);
        assertTrue(r.body().contains("1220 tokens"), r.body());
    }
}
