package ai.arbor.http;

import ai.arbor.actors.synthetic.ByteTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Generates HTTP requests that are each wrong in one known way (request line, headers, media type, size, JSON, a
 * parameter's type or range, method or path, chunk sizes), as the raw bytes to write on a socket. Everything is drawn
 * from the {@link SplittableRandom} passed in, so one seed always yields the same request.
 */
final class MalformedRequests {
    private MalformedRequests() {}

    /** One generated request: the way it is wrong, and the bytes to send. */
    record Malformed(String kind, byte[] bytes) {
        /** The request as text with control characters escaped, shortened, for a failure message. */
        String preview() {
            String text = new String(bytes, StandardCharsets.ISO_8859_1);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < text.length() && sb.length() < 400; i++) {
                char c = text.charAt(i);
                if (c == '\r') sb.append("\\r");
                else if (c == '\n') sb.append("\\n");
                else if (c < 0x20 || c > 0x7e) sb.append(String.format("\\x%02x", (int) c));
                else sb.append(c);
            }
            return text.length() > 400 ? sb + "… (" + bytes.length + " bytes)" : sb.toString();
        }
    }

    static final int VOCAB = new ByteTokenizer().vocabSize();
    static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE",
            "CONNECT");
    static final List<String> ENDPOINTS = List.of("/v1/completions", "/v1/chat/completions", "/v1/models", "/health");
    static final List<String> GENERATE = List.of("/v1/completions", "/v1/chat/completions");

    /** The categories, drawn with equal weight. */
    private static final List<Function<SplittableRandom, Malformed>> CATEGORIES = List.of(
            MalformedRequests::badRequestLine, MalformedRequests::badHeaders, MalformedRequests::wrongMediaType,
            MalformedRequests::tooLarge, MalformedRequests::badJson, MalformedRequests::badParameter,
            MalformedRequests::wrongMethodOrPath, MalformedRequests::badChunks);

    static Malformed next(SplittableRandom random) {
        return pick(random, CATEGORIES).apply(random);
    }

    static <T> T pick(SplittableRandom random, List<T> from) {
        return from.get(random.nextInt(from.size()));
    }

    /** A string of length min..max (inclusive) over the characters of {@code alphabet}. */
    static String string(SplittableRandom random, String alphabet, int min, int max) {
        int n = random.nextInt(min, max + 1);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        return sb.toString();
    }

    static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static final String LOWER = "abcdefghijklmnopqrstuvwxyz";
    static final String ALPHA = UPPER + LOWER;

    static Malformed raw(String kind, String head, byte[] body) {
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return new Malformed(kind, all);
    }

    static Malformed get(String kind, String requestLine, String extraHeaders) {
        return raw(kind, requestLine + "\r\nHost: localhost\r\nConnection: close\r\n" + extraHeaders + "\r\n",
                new byte[0]);
    }

    static Malformed post(String kind, String path, String contentType, byte[] body) {
        return raw(kind, "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: "
                + contentType + "\r\nContent-Length: " + body.length + "\r\n\r\n", body);
    }

    static Malformed postJson(String kind, String path, String body) {
        return post(kind, path, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    static String validBody(String path) {
        return path.contains("chat")
                ? "{\"model\":\"synthetic\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}"
                : "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":2}";
    }

    static Malformed badRequestLine(SplittableRandom r) {
        switch (r.nextInt(4)) {
            case 0 -> {
                String method;
                do method = string(r, UPPER, 1, 24); while (METHODS.contains(method));
                return get("unknown-method", method + " " + pick(r, ENDPOINTS) + " HTTP/1.1", "");
            }
            case 1 -> {
                return get("bad-version", "GET " + pick(r, ENDPOINTS) + " HTTP/" + r.nextInt(2, 10) + "."
                        + r.nextInt(10), "");
            }
            case 2 -> {
                String bad = pick(r, List.of("%zz", "%", "<x>", "\"", "{}", "|", "\\", "^", "`"));
                return get("bad-target", "GET /v1/" + bad + " HTTP/1.1", "");
            }
            default -> {
                return get("long-uri", "GET /v1/" + "u".repeat(r.nextInt(2100, 2501)) + " HTTP/1.1", "");
            }
        }
    }

    static Malformed badHeaders(SplittableRandom r) {
        String path = pick(r, ENDPOINTS);
        String header = switch (r.nextInt(4)) {
            case 0 -> "X" + pick(r, List.of(" ", "(", ")", "@", ",", ";", "\"", "/", "[", "]", "{", "}")) + "Name: v\r\n";
            case 1 -> "X-Big: " + "v".repeat(r.nextInt(8300, 9001)) + "\r\n";
            case 2 -> {
                StringBuilder sb = new StringBuilder();
                for (int i = 0, n = r.nextInt(70, 201); i < n; i++) sb.append("X-H").append(i).append(": v\r\n");
                yield sb.toString();
            }
            default -> "Content-Length: " + pick(r, List.of("abc", "-1", "1x", "0x10", "99999999999999999999999",
                    "1, 2")) + "\r\n";
        };
        return get("headers", "GET " + path + " HTTP/1.1", header);
    }

    static Malformed wrongMediaType(SplittableRandom r) {
        String path = pick(r, GENERATE);
        String type;
        if (r.nextBoolean()) {
            type = pick(r, List.of("image/png", "text/plain", "application/xml", "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x", "text/json"));
        } else {
            do type = string(r, ALPHA, 1, 10) + "/" + string(r, ALPHA, 1, 10);
            while (type.equalsIgnoreCase("application/json"));
        }
        return post("media-type", path, type, validBody(path).getBytes(StandardCharsets.UTF_8));
    }

    /** Over the 64 KiB body limit the test's server is configured with. */
    static Malformed tooLarge(SplittableRandom r) {
        return postJson("too-large", "/v1/completions",
                "{\"model\":\"synthetic\",\"prompt\":\"" + "x".repeat(r.nextInt(65_537, 70_001)) + "\"}");
    }

    static Malformed badJson(SplittableRandom r) {
        String path = pick(r, GENERATE);
        switch (r.nextInt(3)) {
            case 0 -> {
                String body = validBody(path);
                return postJson("truncated-json", path, body.substring(0, body.length() * r.nextInt(1000) / 1000));
            }
            case 1 -> {
                byte[] bytes = new byte[r.nextInt(301)];
                for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) r.nextInt(256);
                return post("random-bytes", path, "application/json", bytes);
            }
            default -> {
                return postJson("not-a-request", path, pick(r, List.of("[]", "1", "\"x\"", "null", "true", "[{}]",
                        "{}")));
            }
        }
    }

    /** Values each parameter rejects, as JSON text; sorted so a seed picks the same parameter on every JVM. */
    static final Map<String, List<String>> BAD_VALUES = new TreeMap<>(Map.ofEntries(
            Map.entry("model", List.of("5", "\"\"", "\"no-such-model\"", "[]", "{}")),
            Map.entry("temperature", List.of("-1", "2.5", "\"hot\"", "true", "[]", "1e400")),
            Map.entry("top_p", List.of("0", "1.5", "-0.1", "\"x\"")),
            Map.entry("top_k", List.of("-2", "1.5", "\"x\"", "99999999999999999999")),
            Map.entry("min_p", List.of("2", "-1", "\"x\"")),
            Map.entry("n", List.of("0", "-1", "129", "1.5", "\"x\"", "18446744073709551621")),
            Map.entry("max_tokens", List.of("0", "-5", "\"x\"", "1.5", "18446744073709551621", "1000000")),
            Map.entry("stream", List.of("\"yes\"", "1", "[]")),
            Map.entry("stop", List.of("5", "[1]", "{}", tooManyStops())),
            Map.entry("seed", List.of("1.5", "\"x\"", "18446744073709551621")),
            Map.entry("presence_penalty", List.of("3", "-3", "\"x\"")),
            Map.entry("frequency_penalty", List.of("3", "-3", "\"x\"")),
            Map.entry("repetition_penalty", List.of("0", "-1", "\"x\"")),
            Map.entry("stop_token_ids", List.of("[-1]", "[" + VOCAB + "]", "[18446744073709551621]", "\"x\"", "[1.5]")),
            Map.entry("stream_options", List.of("{\"include_usage\":true}", "5")),
            Map.entry("min_tokens", List.of("-1", "\"x\"", "100")),
            Map.entry("an_unknown_parameter", List.of("1", "\"x\""))));
    private static final List<String> PARAMETERS = List.copyOf(BAD_VALUES.keySet());

    /** One more stop string than the default arbor.frontend.limits.max-stop-strings (64) allows. */
    private static String tooManyStops() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 65; i++) sb.append(i == 0 ? "" : ",").append("\"s").append(i).append('"');
        return sb.append(']').toString();
    }

    static final List<String> BAD_PROMPTS = List.of("5", "[]", "[[]]", "{}", "[\"a\", 5]", "[-1]", "[" + VOCAB + "]",
            "[18446744073709551621]", "[9223372036854775808]", "[1.5]", "\"\"", "null", "[[1],[-3]]", "true");
    static final List<String> BAD_MESSAGES = List.of("\"hi\"", "[]", "[5]", "[{\"role\":5}]", "[{}]",
            "[{\"role\":\"user\",\"content\":5}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"image\"}]}]", "{}");

    /** A valid body with one parameter set to a value it rejects (half of them), or the prompt/messages invalid. */
    static Malformed badParameter(SplittableRandom r) {
        switch (r.nextInt(4)) {
            case 0, 1 -> {
                String path = pick(r, GENERATE);
                String name = pick(r, PARAMETERS);
                String value = pick(r, BAD_VALUES.get(name));
                String body = validBody(path);
                String withField = name.equals("model")
                        ? body.replace("\"model\":\"synthetic\"", "\"model\":" + value)
                        : body.substring(0, body.length() - 1) + ",\"" + name + "\":" + value + "}";
                return postJson("param:" + name, path, withField);
            }
            case 2 -> {
                return postJson("param:prompt", "/v1/completions",
                        "{\"model\":\"synthetic\",\"prompt\":" + pick(r, BAD_PROMPTS) + ",\"max_tokens\":2}");
            }
            default -> {
                return postJson("param:messages", "/v1/chat/completions",
                        "{\"model\":\"synthetic\",\"messages\":" + pick(r, BAD_MESSAGES) + ",\"max_tokens\":2}");
            }
        }
    }

    /** The GET routes that exist, which a wrong method or path must not hit. */
    static final Set<String> GET_ROUTES = Set.of("/v1/models", "/health", "/live", "/metrics");

    static Malformed wrongMethodOrPath(SplittableRandom r) {
        if (r.nextBoolean()) {
            String method;
            String path;
            do {
                method = pick(r, List.of("PUT", "DELETE", "PATCH", "OPTIONS", "GET"));
                path = pick(r, List.of("/v1/completions", "/v1/chat/completions", "/v1/models", "/health", "/live"));
            } while (method.equals("GET") && GET_ROUTES.contains(path));
            return get("method", method + " " + path + " HTTP/1.1", "");
        }
        String path;
        do path = "/" + string(r, LOWER, 1, 30); while (GET_ROUTES.contains(path));
        return get("path", "GET " + path + " HTTP/1.1", "");
    }

    static Malformed badChunks(SplittableRandom r) {
        String size = pick(r, List.of("zz", "-1", "1;", "fffffffffffffffffffff", "g"));
        return raw("chunks", "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n{}\r\n0\r\n\r\n",
                new byte[0]);
    }
}
