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
                "arbor.frontend.limits.max-stop-string-bytes", 16, "arbor.frontend.limits.max-embedding-inputs", 4),
                null, Map.of()));
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

    static String embeddingOfIds(int count) {
        StringBuilder ids = new StringBuilder("[");
        for (int i = 0; i < count; i++) ids.append(i == 0 ? "" : ",").append(65);
        return "{\"model\":\"synthetic\",\"input\":" + ids + "]}";
    }

    @Test
    void anEmbeddingInFlightHoldsItsTokensInTheBudget() throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.getOutputStream().write(RawHttp.post("/v1/embeddings", "application/json", embeddingOfIds(900))
                    .getBytes(StandardCharsets.ISO_8859_1));
            CancelBeforeFirstTokenTest.await(() -> engine.heldEmbeddings() == 1, "the embedding waits at the engine");
            // 900 of the model's 1000 tokens are taken: 5 + 200 more do not fit now
            var r = post("{\"model\":\"synthetic\",\"prompt\":\"hello\",\"max_tokens\":200}");
            r.assertOpenAiError(429);
            assertTrue(r.body().contains("tokens queued"), r.body());
            engine.finishEmbeddings(new float[] {0.6f, 0.8f});
            var done = RawHttp.read(s.getInputStream());
            assertEquals(200, done.status(), done.body());
            assertEquals(0.8, done.json().at("/data/0/embedding/1").asDouble(), 1e-6);
            assertEquals(900, done.json().at("/usage/prompt_tokens").asInt());
        }
        CancelBeforeFirstTokenTest.await(() -> node.server().admission().inFlight() == 0, "the embedding ended");
        release(hold("{\"model\":\"synthetic\",\"prompt\":\"hello\",\"max_tokens\":200}", 1));
    }

    @Test
    void embeddingInputsAreBoundedInCountLengthAndTokens() throws Exception {
        var tooMany = RawHttp.exchange(node.port(), RawHttp.post("/v1/embeddings", "application/json",
                "{\"model\":\"synthetic\",\"input\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"), CancelBeforeFirstTokenTest.TIMEOUT);
        tooMany.assertOpenAiError(400);
        assertEquals("input", tooMany.json().at("/error/param").asText());
        assertTrue(tooMany.body().contains("at most 4"), tooMany.body());
        var tooLong = RawHttp.exchange(node.port(), RawHttp.post("/v1/embeddings", "application/json",
                embeddingOfIds(4097)), CancelBeforeFirstTokenTest.TIMEOUT);
        tooLong.assertOpenAiError(400);
        assertEquals("input", tooLong.json().at("/error/param").asText());
        assertEquals("context_length_exceeded", tooLong.json().at("/error/code").asText());
        // within the context, but more tokens than the model may ever queue: never fits, so 400 rather than 429
        var tooMuch = RawHttp.exchange(node.port(), RawHttp.post("/v1/embeddings", "application/json",
                embeddingOfIds(1001)), CancelBeforeFirstTokenTest.TIMEOUT);
        tooMuch.assertOpenAiError(400);
        assertEquals("input", tooMuch.json().at("/error/param").asText());
        assertTrue(tooMuch.body().contains("1001 tokens"), tooMuch.body());
        assertEquals(0, engine.heldEmbeddings(), "none reached the engine");
    }
}
