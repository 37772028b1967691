package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import ai.arbor.http.MalformedRequests.Malformed;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the HTTP API with generated malformed requests ({@link MalformedRequests}), sent on raw sockets to a server
 * over the synthetic engine: every one must get a 4xx in OpenAI's error shape (or the 501/505 HTTP itself prescribes
 * for an unknown method or version), never another 5xx or no answer, and the server must serve normally afterwards.
 *
 * <p>Case {@code i} is generated from {@code new SplittableRandom(seed + i)}, so a failure message's seed and case
 * number regenerate exactly that request. The seed is fixed, so every run sends the same requests;
 * {@code -Darbor.fuzz.seed=N} explores others.
 */
class MalformedRequestFuzzTest {
    static final long SEED = Long.getLong("arbor.fuzz.seed", 0x17_2026L);
    static final int CASES = 10_000;
    static final int CHECK_SERVING_EVERY = 2_500;
    static final int MAX_FAILURES_LISTED = 20;
    static final Duration WAIT = Duration.ofSeconds(10);
    static SingleNode node;

    @BeforeAll
    static void start() throws Exception {
        node = SyntheticServers.start(Map.of("arbor.frontend.max-body-bytes", "64 KiB",
                "arbor.frontend.header-timeout", "3s"), 0);
        SyntheticServers.awaitHealthy(node);
    }

    @AfterAll
    static void stop() { if (node != null) node.close(); }

    @Test
    void everyMalformedRequestGetsA4xxOpenAiError() throws Exception {
        Map<Integer, Integer> byStatus = new TreeMap<>();
        Map<String, Integer> byKind = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int failed = 0;
        int unanswered = 0;
        int sent = 0;
        for (int i = 0; i < CASES && failures.size() < MAX_FAILURES_LISTED; i++) {
            Malformed request = MalformedRequests.next(new SplittableRandom(SEED + i));
            byKind.merge(request.kind(), 1, Integer::sum);
            sent++;
            String problem;
            try {
                RawHttp.Response r = RawHttp.exchange(node.port(), request.bytes(), WAIT);
                byStatus.merge(r.status(), 1, Integer::sum);
                problem = problem(request, r);
            } catch (IOException e) {
                unanswered++;
                problem = "no answer: " + e;
            }
            if (problem != null) {
                failed++;
                failures.add("seed " + SEED + " case " + i + " (" + request.kind() + "): " + problem
                        + "\n    request: " + request.preview());
            }
            // every 2,500th, the last included: still serving, nothing left in flight
            if ((i + 1) % CHECK_SERVING_EVERY == 0) assertServing();
        }
        System.out.printf("MalformedRequestFuzzTest seed %d: %d sent, %d failed (%d unanswered)%n  status: %s%n"
                + "  kind: %s%n", SEED, sent, failed, unanswered, byStatus, byKind);
        assertTrue(failures.isEmpty(), failed + " of " + sent + " malformed requests were not answered with a 4xx "
                + "OpenAI error (seed " + SEED + "; regenerate case i with MalformedRequests.next(new SplittableRandom("
                + SEED + " + i))):\n" + String.join("\n", failures));
        assertEquals(CASES, sent);
        // the seed reached every way of being wrong, so a generator change cannot silently drop one
        assertTrue(byKind.keySet().containsAll(List.of("unknown-method", "bad-version", "bad-target", "long-uri",
                "headers", "media-type", "too-large", "truncated-json", "random-bytes", "not-a-request",
                "param:prompt", "param:messages", "method", "path", "chunks")), byKind.toString());
        assertTrue(byKind.keySet().containsAll(MalformedRequests.BAD_VALUES.keySet().stream().map(p -> "param:" + p)
                .toList()), byKind.toString());
        assertServing();
    }

    /** Why this response is wrong for this request, or null when it is a right one. */
    static String problem(Malformed request, RawHttp.Response r) {
        // RFC 9110 answers an unknown method with 501 and an unknown HTTP version with 505: not server failures
        boolean protocol = request.kind().equals("unknown-method") && r.status() == 501
                || request.kind().equals("bad-version") && r.status() == 505;
        if (!protocol && (r.status() < 400 || r.status() >= 500)) return "status " + r.status() + ": " + r.body();
        try {
            r.assertOpenAiError(r.status());
            return null;
        } catch (AssertionError | IOException e) {
            return "status " + r.status() + " without OpenAI's error JSON (" + e.getMessage() + "): " + r.body();
        }
    }

    /** Health, a normal completion, and no admission slot left taken. */
    static void assertServing() throws Exception {
        assertEquals(200, SyntheticServers.get(node, "/health").statusCode());
        var ok = SyntheticServers.post(node, "/v1/completions",
                "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":3}");
        assertEquals(200, ok.statusCode(), ok.body());
        CancelBeforeFirstTokenTest.await(() -> node.server().admission().inFlight() == 0, "no request is in flight");
    }
}
