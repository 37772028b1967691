package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.it.support.ClusterProcesses;
import ai.arbor.it.support.NodeProcess;
import ai.arbor.it.support.OpenAiCalls;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM to a frontend process in the middle of a stream: it stops being ready, takes no new requests, lets the
 * stream finish (within {@code --drain-timeout}) and exits; a stream longer than the drain timeout is cut there.
 */
class FrontendDrainIT extends ClusterProcesses {
    private NodeProcess node(String name, String roles, String... extra) {
        Path model = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
        List<String> args = new java.util.ArrayList<>(List.of("--router-mode", "least-loaded"));
        args.addAll(List.of(extra));
        NodeProcess n = NodeProcess.create(name, roles, etcd.endpoint(), nats.url(), "drain", model, MODEL_NAME, args);
        nodes.add(n);
        return n;
    }

    private static Iterator<String> openStream(NodeProcess f, int maxTokens) {
        Iterator<String> lines = OpenAiCalls.stream(f.httpUrl() + "/v1/chat/completions",
                OpenAiCalls.chatBody(MODEL_NAME, "tell me a long story", maxTokens, true)).iterator();
        assertNotNull(OpenAiCalls.nextEvent(lines), "no first event");
        return lines;
    }

    /**
     * Reads the stream to its end: the finish reason (null if it never came), the completion tokens of the usage, and
     * "[DONE]" if the terminating event came (null if the stream was cut before it).
     */
    private static String[] readToEnd(Iterator<String> lines) {
        String finish = null;
        String completionTokens = null;
        String done = null;
        try {
            while (lines.hasNext()) {
                String line = lines.next();
                if (!line.startsWith("data:")) continue;
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) {
                    done = data;
                    break;
                }
                JsonNode e = OpenAiCalls.json(data);
                assertFalse(e.has("error"), "stream ended with an error: " + e);
                JsonNode choices = e.path("choices");
                if (choices.size() > 0 && choices.get(0).hasNonNull("finish_reason")) finish = choices.get(0).path("finish_reason").asText();
                if (e.hasNonNull("usage")) completionTokens = e.path("usage").path("completion_tokens").asText();
            }
        } catch (RuntimeException cut) {
            // the connection closed under the reader: a cut stream
        }
        return new String[]{finish, completionTokens, done};
    }

    @Test
    void sigtermMidStreamDrainsTheStreamRefusesNewRequestsAndExits() throws Exception {
        NodeProcess w = node("w", "worker").start();
        NodeProcess patient = node("patient", "frontend", "--drain-timeout", "120s").start();
        NodeProcess hasty = node("hasty", "frontend", "--drain-timeout", "2s").start();
        for (NodeProcess n : List.of(w, patient, hasty)) n.awaitReady(READY);
        for (NodeProcess f : List.of(patient, hasty)) {
            MultiNodeClusterIT.await(() -> OpenAiCalls.post(f.httpUrl() + "/v1/chat/completions",
                    OpenAiCalls.chatBody(MODEL_NAME, "warm up", 2, false)).status() == 200, Duration.ofSeconds(60), f.name() + " never served");
        }

        // a stream that outlives the signal by a while, and a drain timeout longer than it
        int maxTokens = 600;
        Iterator<String> stream = openStream(patient, maxTokens);
        long signalled = System.nanoTime();
        patient.signalTerm();
        MultiNodeClusterIT.await(() -> NodeProcess.get(patient.managementUrl() + "/ready").status() != 200,
                Duration.ofSeconds(10), "readiness still passed while draining");
        NodeProcess.Response ready = NodeProcess.get(patient.managementUrl() + "/ready");
        int readyStatus = ready.status();
        assertEquals(503, readyStatus, "readiness while draining: " + ready.body());
        assertTrue(ready.body().contains("\"code\":\"draining\""), ready.body());
        MultiNodeClusterIT.await(() -> OpenAiCalls.post(patient.httpUrl() + "/v1/chat/completions",
                OpenAiCalls.chatBody(MODEL_NAME, "too late", 2, false)).status() != 200, Duration.ofSeconds(10),
                "a new request was still served while draining");
        String[] end = readToEnd(stream);
        long streamEndedMs = (System.nanoTime() - signalled) / 1_000_000;
        assertEquals("length", end[0], "the stream in flight did not finish normally");
        assertEquals(String.valueOf(maxTokens), end[1], "usage of the drained stream");
        assertEquals("[DONE]", end[2], "the drained stream was cut before its last event");
        int exit = patient.waitForExit(Duration.ofSeconds(60));
        long exitedMs = (System.nanoTime() - signalled) / 1_000_000;
        assertNotEquals(-1, exit, "the drained frontend did not exit");
        assertTrue(Files.readString(patient.log()).contains("drained in"), "no drain in the log");
        System.out.printf("frontend drain: readiness %d while draining; %d-token stream finished %d ms after SIGTERM, "
                + "process exited after %d ms (code %d)%n", readyStatus, maxTokens, streamEndedMs, exitedMs, exit);

        // the other frontend still serves: draining one takes nothing from the rest
        assertEquals(200, OpenAiCalls.post(hasty.httpUrl() + "/v1/chat/completions",
                OpenAiCalls.chatBody(MODEL_NAME, "still here", 2, false)).status());

        // a stream longer than the drain timeout is cut when it runs out, and the process still exits
        Iterator<String> longStream = openStream(hasty, 2000);
        long hastySignalled = System.nanoTime();
        hasty.signalTerm();
        String[] cut = readToEnd(longStream);
        int hastyExit = hasty.waitForExit(Duration.ofSeconds(60));
        long hastyExitedMs = (System.nanoTime() - hastySignalled) / 1_000_000;
        assertNotEquals(-1, hastyExit, "the frontend did not exit after its drain timeout");
        assertNotEquals("length", cut[0], "a 2000-token stream finished within a 2 s drain timeout: the bound was not applied");
        assertTrue(hastyExitedMs < 40_000, "exit took " + hastyExitedMs + " ms with a 2 s drain timeout");
        System.out.printf("frontend drain timeout 2 s: a 2000-token stream was cut and the process exited after %d ms%n",
                hastyExitedMs);
    }
}
