package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Requests written byte by byte on a socket, for what java.net.http refuses to send (malformed request lines,
 * lying Content-Length, odd methods), and the response read back.
 */
final class RawHttp {
    private RawHttp() {}

    record Response(int status, Map<String, String> headers, String body) {
        JsonNode json() throws IOException { return new ObjectMapper().readTree(body); }

        /** The response is OpenAI's error shape with this status. */
        void assertOpenAiError(int expected) throws IOException {
            assertEquals(expected, status, body);
            assertTrue(headers.getOrDefault("content-type", "").startsWith("application/json"), headers.toString());
            JsonNode e = json().get("error");
            assertNotNull(e, body);
            for (String f : new String[] {"message", "type", "param", "code"}) assertTrue(e.has(f), "error has " + f);
            assertFalse(e.get("message").asText().isBlank(), body);
        }
    }

    static Response exchange(int port, String request, Duration timeout) throws IOException {
        return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1), timeout);
    }

    static Response exchange(int port, byte[] request, Duration timeout) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout((int) timeout.toMillis());
            try {
                s.getOutputStream().write(request);
                s.getOutputStream().flush();
            } catch (IOException e) {
                // the server may answer and close before it read everything (an oversized head): read its answer
            }
            return read(new BufferedInputStream(s.getInputStream()));
        }
    }

    /** Reads one response: the head, then a Content-Length body, a chunked body, or up to the close. */
    static Response read(InputStream in) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) throw new IOException("the connection closed without a response");
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
            int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (headers.containsKey("content-length")) {
            body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (int size; (size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) > 0; ) {
                body.write(in.readNBytes(size));
                line(in);
            }
        } else {
            body.write(in.readAllBytes());
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != -1; ) {
            if (c == '\n') return sb.toString();
            if (c != '\r') sb.append((char) c);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    static String post(String path, String contentType, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + contentType + "\r\nContent-Length: "
                + b.length + "\r\n\r\n" + new String(b, StandardCharsets.ISO_8859_1);
    }
}
