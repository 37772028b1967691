package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.actors.synthetic.ByteTokenizer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every refusal is OpenAI's error JSON with the right status, including those Pekko HTTP makes while parsing, before
 * any handler runs. Malformed requests go over raw sockets, since no HTTP client sends them.
 */
class HttpErrorStatusTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static SingleNode node;

    @BeforeAll
    static void start() throws Exception {
        // one request in flight at most: a slot held where none should be shows as a 429
        node = SyntheticServers.start(Map.of("arbor.frontend.max-body-bytes", "1 KiB",
                "arbor.frontend.body-timeout", "1s", "arbor.frontend.max-queued-requests", 1), 0);
        SyntheticServers.awaitHealthy(node);
    }

    @AfterAll
    static void stop() { node.close(); }

    static RawHttp.Response send(String raw) throws Exception {
        // a response's slot is freed as its stream ends, which may be just after the client read it
        CancelBeforeFirstTokenTest.await(() -> node.server().admission().inFlight() == 0, "no request in flight");
        return RawHttp.exchange(node.port(), raw, WAIT);
    }

    static String completion(String extra) {
        return RawHttp.post("/v1/completions", "application/json",
                "{\"model\":\"synthetic\",\"max_tokens\":2" + extra + "}");
    }

    @Test
    void aMalformedRequestLineIs400() throws Exception {
        send("GET /%zz HTTP/1.1\r\nHost: localhost\r\n\r\n").assertOpenAiError(400);
        send("GET /v1/models HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n").assertOpenAiError(400);
        send("GET /v1/models HTTP/1.1\r\nHost: localhost\r\nBad Header Without Colon\r\n\r\n").assertOpenAiError(400);
    }

    @Test
    void anOversizedUriIs414() throws Exception {
        send("GET /" + "a".repeat(3000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n").assertOpenAiError(414);
    }

    @Test
    void anOversizedHeaderIs431() throws Exception {
        send("GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n")
                .assertOpenAiError(431);
    }

    @Test
    void anUnknownMethodIs501AndAnUnknownProtocol505() throws Exception {
        send("BREW /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n").assertOpenAiError(501);
        send("GET /v1/models HTTP/3.7\r\nHost: localhost\r\n\r\n").assertOpenAiError(505);
    }

    @Test
    void aBodyOtherThanJsonIs415() throws Exception {
        String body = "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":2}";
        var r = send(RawHttp.post("/v1/completions", "image/png", body));
        r.assertOpenAiError(415);
        assertTrue(r.body().contains("application/json"), r.body());
        send(RawHttp.post("/v1/completions", "text/plain", body)).assertOpenAiError(415);
        assertEquals(200, send(RawHttp.post("/v1/completions", "application/json; charset=utf-8", body)).status());
    }

    @Test
    void aBodyShorterThanItsContentLengthIs408AndHoldsNoSlot() throws Exception {
        CancelBeforeFirstTokenTest.await(() -> node.server().admission().inFlight() == 0, "no request in flight");
        try (Socket s = new Socket("127.0.0.1", node.port())) {
            s.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"model\":").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // while the body is missing, the one admission slot stays free for others
            assertEquals(200, send(completion(",\"prompt\":\"hi\"")).status());
            RawHttp.Response r = RawHttp.read(s.getInputStream());
            r.assertOpenAiError(408);
        }
    }

    @Test
    void aBodyOverTheLimitIs413ChunkedOrNot() throws Exception {
        String big = "{\"model\":\"synthetic\",\"prompt\":\"" + "x".repeat(2000) + "\"}";
        send(RawHttp.post("/v1/completions", "application/json", big)).assertOpenAiError(413);
        StringBuilder chunked = new StringBuilder("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < big.length(); i += 100) {
            String part = big.substring(i, Math.min(big.length(), i + 100));
            chunked.append(Integer.toHexString(part.length())).append("\r\n").append(part).append("\r\n");
        }
        chunked.append("0\r\n\r\n");
        RawHttp.Response r = send(chunked.toString());
        r.assertOpenAiError(413);
        assertTrue(r.body().contains("1024 bytes"), r.body());
    }

    @Test
    void tokenIdsOutOfRangeAre400NamingTheParameter() throws Exception {
        // 2^64 + 5 used to wrap to token 5
        int vocab = new ByteTokenizer().vocabSize();
        for (String ids : new String[] {"18446744073709551621", "-1", "" + vocab, "9223372036854775808", "1.5"}) {
            var r = send(completion(",\"prompt\":[" + ids + "]"));
            r.assertOpenAiError(400);
            assertEquals("prompt", r.json().at("/error/param").asText(), r.body());
            r = send(completion(",\"prompt\":\"hi\",\"stop_token_ids\":[" + ids + "]"));
            r.assertOpenAiError(400);
            assertEquals("stop_token_ids", r.json().at("/error/param").asText(), r.body());
        }
        assertEquals(200, send(completion(",\"prompt\":[5, " + (vocab - 1) + "],\"stop_token_ids\":[" + (vocab - 1)
                + "]")).status());
    }

    @Test
    void unknownPathsAndMethodsAreJsonToo() throws Exception {
        send("GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n").assertOpenAiError(404);
        send("DELETE /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n").assertOpenAiError(405);
    }
}
