package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends streaming OpenAI requests with the JDK's asynchronous HTTP client: each response body is pushed line by line to
 * a {@link StreamRecorder}, so thousands of streams share a selector thread and a small pool instead of a thread each.
 */
public final class StreamingClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String model;
    private final Endpoint endpoint;
    private final Duration timeout;
    private final ExecutorService pool;
    private final HttpClient http;

    public StreamingClient(URI base, String model, Endpoint endpoint, Duration timeout) {
        this.base = base;
        this.model = model;
        this.endpoint = endpoint;
        this.timeout = timeout;
        this.pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bench-http");
            t.setDaemon(true);
            return t;
        });
        // HTTP/1.1 on purpose: one connection per stream, as real clients of an OpenAI server behave, and no h2c
        // upgrade dance with servers that do not speak it. Connecting shares the request's time limit: under a burst
        // a server's accept backlog overflows and connects are retried by TCP for seconds, which is latency the
        // client sees (it lands in TTFT), not a failure.
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .executor(pool)
                .build();
    }

    /** Starts one request; the future always completes normally, failures are in the result. */
    public CompletableFuture<RequestResult> send(int index, BenchPrompt prompt) {
        return send(index, body(prompt));
    }

    /** Starts one request with a body made earlier by {@link #body}, so none of that work falls inside the run. */
    public CompletableFuture<RequestResult> send(int index, String body) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(endpoint.path()))
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        StreamRecorder recorder = new StreamRecorder(index, System.nanoTime());
        AtomicReference<RequestResult> httpError = new AtomicReference<>();
        HttpResponse.BodyHandler<Void> handler = info -> {
            if (info.statusCode() == 200) {
                return HttpResponse.BodySubscribers.fromLineSubscriber(recorder, s -> null, StandardCharsets.UTF_8,
                        null);
            }
            return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8),
                    text -> {
                        httpError.set(recorder.failed(info.statusCode(), errorMessage(text)));
                        return null;
                    });
        };
        return http.sendAsync(request, handler).handle((response, failure) -> {
            if (failure != null) {
                return recorder.failed(0, describe(failure));
            }
            RequestResult err = httpError.get();
            return err != null ? err : recorder.streamed();
        });
    }

    public String body(BenchPrompt prompt) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        if (endpoint == Endpoint.CHAT) {
            body.set("messages", JSON.valueToTree(prompt.chatMessages()));
        } else {
            body.set("prompt", JSON.valueToTree(prompt.completionPrompt()));
        }
        body.put("max_tokens", prompt.outputLen());
        // Fixed output lengths make runs comparable: the model may not stop early (vLLM's bench does the same).
        body.put("ignore_eos", true);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        return body.toString();
    }

    /** The OpenAI error message of an error body, or the body itself shortened to one line. */
    static String errorMessage(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            JsonNode err = node.path("error");
            if (err.isTextual()) {
                return err.asText();
            }
            if (err.hasNonNull("message")) {
                return err.get("message").asText();
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: fall through to the raw text
        }
        return body.isBlank() ? "(empty body)" : StreamChunk.abbreviate(body);
    }

    /** One line about a transport failure, naming the root cause rather than the wrapper. */
    static String describe(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                return "connect timed out";
            }
            if (t instanceof HttpTimeoutException) {
                return "timed out waiting for the response";
            }
            if (t instanceof ConnectException) {
                return "connection refused";
            }
        }
        Throwable t = failure;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        return t.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }

    public HttpClient http() { return http; }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
