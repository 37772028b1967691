package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in OpenAI server for unit tests of the client only: streams {@code max_tokens} one-word chunks
 * {@code gapMillis} apart, then a usage chunk and [DONE]. It counts requests in flight so tests can check pacing.
 */
final class CannedSseServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    volatile int gapMillis = 10;
    volatile int errorStatus = 0;
    /** When set, every stream waits (up to 30 s) until this many requests are open at once. */
    volatile java.util.concurrent.CountDownLatch allOpen;
    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "canned-sse");
        t.setDaemon(true);
        return t;
    });

    CannedSseServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4096);
        server.setExecutor(pool);
        server.createContext("/v1/models", ex -> respond(ex, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"canned\"}]}"));
        server.createContext("/v1/chat/completions", this::stream);
        server.createContext("/v1/completions", this::stream);
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void stream(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        // A request stops counting before its last byte goes out: the client cannot see the end (and send the next
        // request) before that, so the count never overstates how many the client had open at once.
        boolean[] counted = {true};
        Runnable leave = () -> {
            if (counted[0]) {
                counted[0] = false;
                inFlight.decrementAndGet();
            }
        };
        try {
            JsonNode body = JSON.readTree(ex.getRequestBody());
            if (errorStatus != 0) {
                leave.run();
                respond(ex, errorStatus, "{\"error\":{\"message\":\"canned failure\",\"type\":\"invalid_request_error\"}}");
                return;
            }
            java.util.concurrent.CountDownLatch latch = allOpen;
            if (latch != null) {
                latch.countDown();
                try {
                    latch.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            int n = body.path("max_tokens").asInt(16);
            JsonNode prompt = body.has("messages") ? body.path("messages").get(0).path("content") : body.path("prompt");
            int promptTokens = prompt.isArray() ? prompt.size() : prompt.asText().strip().split("\\s+").length;
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                boolean chat = body.has("messages");
                for (int i = 0; i < n; i++) {
                    sleep(gapMillis);
                    String chunk = chat
                            ? "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\" w" + i + "\"},\"finish_reason\":null}]}"
                            : "{\"choices\":[{\"index\":0,\"text\":\" w" + i + "\",\"finish_reason\":null}]}";
                    event(out, chunk);
                }
                event(out, "{\"choices\":[],\"usage\":{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + n
                        + ",\"total_tokens\":" + (promptTokens + n) + ",\"prompt_tokens_details\":{\"cached_tokens\":"
                        + promptTokens / 2 + "}}}");
                leave.run();
                event(out, "[DONE]");
            }
        } finally {
            leave.run();
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    private static void sleep(int ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
