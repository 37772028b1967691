package ai.arbor.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.Stream;

/** Plain HTTP calls to a frontend's OpenAI API, including reading a streamed response line by line. */
public final class OpenAiCalls {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private OpenAiCalls() {}

    public static String chatBody(String model, String content, int maxTokens, boolean stream) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}],"
                + "\"max_tokens\":" + maxTokens + ",\"ignore_eos\":true,\"temperature\":0"
                + (stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "") + "}";
    }

    public static NodeProcess.Response post(String url, String body) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new NodeProcess.Response(r.statusCode(), r.body());
        } catch (IOException e) {
            return new NodeProcess.Response(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new NodeProcess.Response(-1, "interrupted");
        }
    }

    /** Opens a streamed request; the caller reads SSE lines as they come. */
    public static Stream<String> stream(String url, String body) {
        try {
            HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofLines());
            if (r.statusCode() != 200) throw new IllegalStateException("stream answered " + r.statusCode() + ": " + String.join("\n", r.body().toList()));
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The JSON of the next {@code data:} event, or null at {@code [DONE]} or the end of the stream. */
    public static JsonNode nextEvent(Iterator<String> lines) {
        while (lines.hasNext()) {
            String line = lines.next();
            if (!line.startsWith("data:")) continue;
            String data = line.substring(5).trim();
            if (data.equals("[DONE]")) return null;
            return json(data);
        }
        return null;
    }

    public static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + text, e);
        }
    }
}
