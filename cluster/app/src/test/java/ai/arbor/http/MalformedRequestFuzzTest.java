package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.actors.synthetic.ByteTokenizer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Property-based fuzzing of the HTTP API with generated malformed requests, each wrong in one known way (request
 * line, headers, media type, size, JSON, a parameter's type or range, method or path), sent on raw sockets to a
 * server over the synthetic engine: every one must get a 4xx in OpenAI's error shape (or the 501/505 HTTP itself
 * prescribes for an unknown method or version), never another 5xx or no answer, and the server must serve normally
 * afterwards.
 */
class MalformedRequestFuzzTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final int VOCAB = new ByteTokenizer().vocabSize();
    static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE",
            "CONNECT");
    static SingleNode node;
    static int tries;

    @BeforeContainer
    static void start() throws Exception {
        node = SyntheticServers.start(Map.of("arbor.frontend.max-body-bytes", "64 KiB",
                "arbor.frontend.header-timeout", "3s"), 0);
        SyntheticServers.awaitHealthy(node);
    }

    @AfterContainer
    static void stop() { node.close(); }

    @Property(tries = 10_000, shrinking = ShrinkingMode.BOUNDED)
    void everyMalformedRequestGetsA4xxOpenAiError(@ForAll("malformed") Tuple.Tuple2<String, byte[]> request)
            throws Exception {
        RawHttp.Response r = RawHttp.exchange(node.port(), request.get2(), WAIT);
        Statistics.label("kind").collect(request.get1());
        Statistics.label("status").collect(r.status());
        // RFC 9110 answers an unknown method with 501 and an unknown HTTP version with 505: not server failures
        boolean protocol = request.get1().equals("unknown-method") && r.status() == 501
                || request.get1().equals("bad-version") && r.status() == 505;
        assertTrue(protocol || r.status() >= 400 && r.status() < 500, request.get1() + " got " + r.status() + ": "
                + r.body());
        r.assertOpenAiError(r.status());
        // every 2,500th, the last included: still serving, nothing left in flight
        if (++tries % 2500 == 0) assertServing();
    }

    /** Health, a normal completion, and no admission slot left taken. */
    static void assertServing() throws Exception {
        assertEquals(200, SyntheticServers.get(node, "/health").statusCode());
        var ok = SyntheticServers.post(node, "/v1/completions", "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":3}");
        assertEquals(200, ok.statusCode(), ok.body());
        CancelBeforeFirstTokenTest.await(() -> node.server().admission().inFlight() == 0, "no request is in flight");
    }

    @Provide
    Arbitrary<Tuple.Tuple2<String, byte[]>> malformed() {
        return Arbitraries.oneOf(badRequestLine(), badHeaders(), wrongMediaType(), tooLarge(), badJson(),
                badParameter(), wrongMethodOrPath(), badChunks());
    }

    static Tuple.Tuple2<String, byte[]> raw(String kind, String head, byte[] body) {
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return Tuple.of(kind, all);
    }

    static Tuple.Tuple2<String, byte[]> post(String kind, String path, String contentType, byte[] body) {
        return raw(kind, "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: "
                + contentType + "\r\nContent-Length: " + body.length + "\r\n\r\n", body);
    }

    static Arbitrary<String> endpoint() {
        return Arbitraries.of("/v1/completions", "/v1/chat/completions", "/v1/models", "/health");
    }

    Arbitrary<Tuple.Tuple2<String, byte[]>> badRequestLine() {
        Arbitrary<String> method = Arbitraries.strings().withCharRange('A', 'Z').ofMinLength(1).ofMaxLength(24)
                .filter(m -> !METHODS.contains(m));
        Arbitrary<String> unknownMethod = Combinators.combine(method, endpoint())
                .as((m, p) -> m + " " + p + " HTTP/1.1");
        Arbitrary<String> badVersion = Combinators.combine(endpoint(), Arbitraries.integers().between(2, 9),
                Arbitraries.integers().between(0, 9)).as((p, major, minor) -> "GET " + p + " HTTP/" + major + "." + minor);
        Arbitrary<String> badTarget = Arbitraries.of("%zz", "%", "<x>", "\"", "{}", "|", "\\", "^", "`")
                .map(bad -> "GET /v1/" + bad + " HTTP/1.1");
        Arbitrary<String> longUri = Arbitraries.integers().between(2100, 2500)
                .map(n -> "GET /v1/" + "u".repeat(n) + " HTTP/1.1");
        return Arbitraries.oneOf(line("unknown-method", unknownMethod), line("bad-version", badVersion),
                line("bad-target", badTarget), line("long-uri", longUri));
    }

    static Arbitrary<Tuple.Tuple2<String, byte[]>> line(String kind, Arbitrary<String> requestLine) {
        return requestLine.map(l -> raw(kind, l + "\r\nHost: localhost\r\nConnection: close\r\n\r\n", new byte[0]));
    }

    Arbitrary<Tuple.Tuple2<String, byte[]>> badHeaders() {
        Arbitrary<String> badName = Arbitraries.of(" ", "(", ")", "@", ",", ";", "\"", "/", "[", "]", "{", "}")
                .map(c -> "X" + c + "Name: v\r\n");
        Arbitrary<String> bigValue = Arbitraries.integers().between(8300, 9000).map(n -> "X-Big: " + "v".repeat(n) + "\r\n");
        Arbitrary<String> many = Arbitraries.integers().between(70, 200).map(n -> {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) sb.append("X-H").append(i).append(": v\r\n");
            return sb.toString();
        });
        Arbitrary<String> badLength = Arbitraries.of("abc", "-1", "1x", "0x10", "99999999999999999999999", "1, 2")
                .map(v -> "Content-Length: " + v + "\r\n");
        return Combinators.combine(endpoint(), Arbitraries.oneOf(badName, bigValue, many, badLength))
                .as((p, h) -> raw("headers", "GET " + p + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + h
                        + "\r\n", new byte[0]));
    }

    Arbitrary<Tuple.Tuple2<String, byte[]>> wrongMediaType() {
        Arbitrary<String> type = Arbitraries.oneOf(Arbitraries.of("image/png", "text/plain", "application/xml",
                        "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json"),
                Combinators.combine(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(10),
                        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(10)).as((a, b) -> a + "/" + b)
                        .filter(t -> !t.equalsIgnoreCase("application/json")));
        return Combinators.combine(Arbitraries.of("/v1/completions", "/v1/chat/completions"), type)
                .as((p, t) -> post("media-type", p, t, validBody(p).getBytes(StandardCharsets.UTF_8)));
    }

    Arbitrary<Tuple.Tuple2<String, byte[]>> tooLarge() {
        return Arbitraries.integers().between(65_537, 70_000).map(n -> post("too-large", "/v1/completions",
                "application/json", ("{\"model\":\"synthetic\",\"prompt\":\"" + "x".repeat(n) + "\"}")
                        .getBytes(StandardCharsets.UTF_8)));
    }

    Arbitrary<Tuple.Tuple2<String, byte[]>> badJson() {
        Arbitrary<Tuple.Tuple2<String, byte[]>> truncated = Combinators.combine(Arbitraries.of("/v1/completions",
                "/v1/chat/completions"), Arbitraries.integers().between(0, 999)).as((p, perMille) -> {
            String body = validBody(p);
            return post("truncated-json", p, "application/json",
                    body.substring(0, body.length() * perMille / 1000).getBytes(StandardCharsets.UTF_8));
        });
        Arbitrary<Tuple.Tuple2<String, byte[]>> garbage = Combinators.combine(Arbitraries.of("/v1/completions",
                "/v1/chat/completions"), Arbitraries.bytes().array(byte[].class).ofMaxSize(300))
                .as((p, bytes) -> post("random-bytes", p, "application/json", bytes));
        Arbitrary<Tuple.Tuple2<String, byte[]>> notAnObject = Combinators.combine(Arbitraries.of("/v1/completions",
                "/v1/chat/completions"), Arbitraries.of("[]", "1", "\"x\"", "null", "true", "[{}]", "{}"))
                .as((p, body) -> post("not-a-request", p, "application/json", body.getBytes(StandardCharsets.UTF_8)));
        return Arbitraries.oneOf(truncated, garbage, notAnObject);
    }

    static String validBody(String path) {
        return path.contains("chat")
                ? "{\"model\":\"synthetic\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}"
                : "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":2}";
    }

    /** Values each parameter rejects, as JSON text. */
    static final Map<String, List<String>> BAD_VALUES = Map.ofEntries(
            Map.entry("model", List.of("5", "\"\"", "\"no-such-model\"", "[]", "{}")),
            Map.entry("temperature", List.of("-1", "2.5", "\"hot\"", "true", "[]", "1e400")),
            Map.entry("top_p", List.of("0", "1.5", "-0.1", "\"x\"")),
            Map.entry("top_k", List.of("-2", "1.5", "\"x\"", "99999999999999999999")),
            Map.entry("min_p", List.of("2", "-1", "\"x\"")),
            Map.entry("n", List.of("0", "-1", "129", "1.5", "\"x\"", "18446744073709551621")),
            Map.entry("max_tokens", List.of("0", "-5", "\"x\"", "1.5", "18446744073709551621", "1000000")),
            Map.entry("stream", List.of("\"yes\"", "1", "[]")),
            Map.entry("stop", List.of("5", "[1]", "{}", "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
                    + "\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\",\"r\",\"s\",\"t\",\"u\",\"v\",\"w\",\"x\",\"y\","
                    + "\"z\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\","
                    + "\"15\",\"16\",\"17\",\"18\",\"19\",\"20\",\"21\",\"22\",\"23\",\"24\",\"25\",\"26\",\"27\",\"28\","
                    + "\"29\",\"30\",\"31\",\"32\",\"33\",\"34\",\"35\",\"36\",\"37\",\"38\",\"39\"]")),
            Map.entry("seed", List.of("1.5", "\"x\"", "18446744073709551621")),
            Map.entry("presence_penalty", List.of("3", "-3", "\"x\"")),
            Map.entry("frequency_penalty", List.of("3", "-3", "\"x\"")),
            Map.entry("repetition_penalty", List.of("0", "-1", "\"x\"")),
            Map.entry("stop_token_ids", List.of("[-1]", "[" + VOCAB + "]", "[18446744073709551621]", "\"x\"", "[1.5]")),
            Map.entry("stream_options", List.of("{\"include_usage\":true}", "5")),
            Map.entry("min_tokens", List.of("-1", "\"x\"", "100")),
            Map.entry("an_unknown_parameter", List.of("1", "\"x\"")));

    /** A valid body with one parameter set to a value it rejects, or the prompt/messages made invalid. */
    Arbitrary<Tuple.Tuple2<String, byte[]>> badParameter() {
        Arbitrary<Tuple.Tuple2<String, byte[]>> common = Combinators.combine(
                Arbitraries.of("/v1/completions", "/v1/chat/completions"), Arbitraries.of(BAD_VALUES.keySet()),
                Arbitraries.integers().between(0, 1000)).as((p, name, pick) -> {
            List<String> values = BAD_VALUES.get(name);
            String value = values.get(pick % values.size());
            String body = validBody(p);
            String withField = name.equals("model")
                    ? body.replace("\"model\":\"synthetic\"", "\"model\":" + value)
                    : body.substring(0, body.length() - 1) + ",\"" + name + "\":" + value + "}";
            return post("param:" + name, p, "application/json", withField.getBytes(StandardCharsets.UTF_8));
        });
        Arbitrary<String> badPrompt = Arbitraries.of("5", "[]", "[[]]", "{}", "[\"a\", 5]", "[-1]", "[" + VOCAB + "]",
                "[18446744073709551621]", "[9223372036854775808]", "[1.5]", "\"\"", "null", "[[1],[-3]]", "true");
        Arbitrary<String> badMessages = Arbitraries.of("\"hi\"", "[]", "[5]", "[{\"role\":5}]", "[{}]",
                "[{\"role\":\"user\",\"content\":5}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"image\"}]}]", "{}");
        Arbitrary<Tuple.Tuple2<String, byte[]>> prompt = badPrompt.map(v -> post("param:prompt", "/v1/completions",
                "application/json", ("{\"model\":\"synthetic\",\"prompt\":" + v + ",\"max_tokens\":2}")
                        .getBytes(StandardCharsets.UTF_8)));
        Arbitrary<Tuple.Tuple2<String, byte[]>> messages = badMessages.map(v -> post("param:messages",
                "/v1/chat/completions", "application/json", ("{\"model\":\"synthetic\",\"messages\":" + v
                        + ",\"max_tokens\":2}").getBytes(StandardCharsets.UTF_8)));
        return Arbitraries.oneOf(common, common, prompt, messages);
    }

    Arbitrary<Tuple.Tuple2<String, byte[]>> wrongMethodOrPath() {
        Arbitrary<Tuple.Tuple2<String, byte[]>> method = Combinators.combine(
                Arbitraries.of("PUT", "DELETE", "PATCH", "OPTIONS", "GET"),
                Arbitraries.of("/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/live"))
                .as((m, p) -> m + " " + p).filter(mp -> !mp.startsWith("GET /v1/models") && !mp.startsWith("GET /health")
                        && !mp.startsWith("GET /live"))
                .map(mp -> raw("method", mp + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", new byte[0]));
        Arbitrary<Tuple.Tuple2<String, byte[]>> path = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1)
                .ofMaxLength(30).filter(s -> !Set.of("health", "live", "metrics").contains(s))
                .map(s -> raw("path", "GET /" + s + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                        new byte[0]));
        return Arbitraries.oneOf(method, path);
    }

    Arbitrary<Tuple.Tuple2<String, byte[]>> badChunks() {
        return Arbitraries.of("zz", "-1", "1;", "fffffffffffffffffffff", "g").map(size -> raw("chunks",
                "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json"
                        + "\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n{}\r\n0\r\n\r\n", new byte[0]));
    }
}
