package ai.arbor.cluster.bench;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamingClientTest {
    private CannedSseServer server;

    @BeforeEach
    void start() throws Exception {
        server = new CannedSseServer();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static List<BenchPrompt> prompts(int n, int outputLen) {
        List<BenchPrompt> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(BenchPrompt.ofText("one two three four", null, outputLen, -1));
        }
        return out;
    }

    @Test
    void streamsAreTimedChunkByChunk() {
        server.gapMillis = 60;
        try (StreamingClient client = new StreamingClient(server.url(), "canned", Endpoint.CHAT, Duration.ofSeconds(10))) {
            RequestResult r = client.send(0, BenchPrompt.ofText("a b c d e f", null, 6, -1)).join();
            assertTrue(r.success(), r.error());
            assertEquals(6, r.contentTimes().length);
            assertEquals(6, r.promptTokens());
            assertEquals(6, r.completionTokens());
            assertEquals(3, r.cachedTokens());
            // The server sends chunk k no earlier than (k + 1) gaps after the request: lower bounds that hold
            // however loaded the machine is.
            assertTrue(r.ttftNanos() >= 60_000_000L, "the first chunk came after one gap: " + r.ttftNanos());
            assertTrue(r.contentTimes()[5] - r.sentAt() >= 360_000_000L);
            // Timed on arrival, not all at the end of the stream (only a stall of 240 ms could blur this).
            long spread = r.contentTimes()[5] - r.contentTimes()[0];
            assertTrue(spread >= 60_000_000L, "chunks spread over the stream: " + spread);
            assertTrue(r.e2eNanos() >= r.contentTimes()[5] - r.sentAt());
            assertTrue(r.tpotNanos() > 0);
        }
    }

    @Test
    void completionsSendTokenIds() {
        try (StreamingClient client = new StreamingClient(server.url(), "canned", Endpoint.COMPLETIONS,
                Duration.ofSeconds(10))) {
            String body = client.body(BenchPrompt.ofText("x y", new int[]{5, 9, 11}, 3, -1));
            assertTrue(body.contains("\"prompt\":[5,9,11]"), body);
            assertTrue(body.contains("\"ignore_eos\":true") && body.contains("\"include_usage\":true"), body);
            RequestResult r = client.send(0, BenchPrompt.ofText("x y", new int[]{5, 9, 11}, 3, -1)).join();
            assertTrue(r.success(), r.error());
            assertEquals(3, r.promptTokens());
            assertEquals(3, r.completionTokens());
        }
    }

    @Test
    void errorStatusCarriesTheServersMessage() {
        server.errorStatus = 400;
        try (StreamingClient client = new StreamingClient(server.url(), "canned", Endpoint.CHAT, Duration.ofSeconds(10))) {
            RequestResult r = client.send(0, prompts(1, 3).get(0)).join();
            assertFalse(r.success());
            assertEquals(400, r.status());
            assertEquals("canned failure", r.error());
            assertEquals("HTTP 400", r.errorKind());
        }
    }

    @Test
    void refusedConnectionIsAFailedResultNotAnException() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (StreamingClient client = new StreamingClient(URI.create("http://127.0.0.1:" + port), "m", Endpoint.CHAT,
                Duration.ofSeconds(5))) {
            RequestResult r = client.send(0, prompts(1, 3).get(0)).join();
            assertFalse(r.success());
            assertEquals(0, r.status());
            assertEquals("connection refused", r.error());
            assertEquals("no response", r.errorKind());
        }
    }

    @Test
    void concurrencyLimitIsHonoured() {
        server.gapMillis = 5;
        try (StreamingClient client = new StreamingClient(server.url(), "canned", Endpoint.CHAT, Duration.ofSeconds(10))) {
            RequestDriver.Run run = new RequestDriver(client).run(prompts(24, 8), new long[24], 3, r -> { });
            assertEquals(24, run.results().stream().filter(RequestResult::success).count());
            assertEquals(3, server.maxInFlight.get());
        }
    }

    @Test
    void aThousandConcurrentStreamsDoNotTakeAThreadEach() throws InterruptedException {
        int n = 1000;
        server.gapMillis = 20;
        // The server holds every response until all n requests are open, so overlap does not depend on how fast a
        // loaded machine opens connections.
        CountDownLatch allOpen = new CountDownLatch(n);
        server.allOpen = allOpen;
        // Sampled the moment the last of the n requests arrives: every stream is open then, however late the client
        // hears of the first one ending on a loaded machine.
        int[] clientThreads = {-1};
        Thread sampler = new Thread(() -> {
            try {
                allOpen.await();
                clientThreads[0] = (int) Thread.getAllStackTraces().keySet().stream()
                        .filter(t -> !t.getName().startsWith("canned-sse")).count();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "canned-sse-sampler");
        sampler.start();
        try (StreamingClient client = new StreamingClient(server.url(), "canned", Endpoint.CHAT, Duration.ofSeconds(60))) {
            RequestDriver.Run run = new RequestDriver(client).run(prompts(n, 8), new long[n], 0, r -> { });
            sampler.join(10_000);
            assertEquals(n, run.results().stream().filter(RequestResult::success).count(),
                    () -> run.results().stream().filter(r -> !r.success()).findFirst().map(RequestResult::error)
                            .orElse(""));
            assertEquals(n, server.maxInFlight.get(), "all streams were open at once");
            assertTrue(clientThreads[0] > 0, "the sampler saw every request open");
            assertTrue(clientThreads[0] < 60, "threads outside the test server: " + clientThreads[0]);
        }
    }
}
