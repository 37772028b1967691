package ai.arbor.cluster.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = BenchCommand.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    /** The error is the last line, a single one, with no stack trace anywhere (progress lines may come before). */
    private void assertOneLineError(int code, int expectedCode, String fragment) {
        assertEquals(expectedCode, code, err.toString());
        String all = err.toString().strip();
        assertFalse(all.contains("Exception") || all.contains("\tat "), "no stack trace: " + all);
        String e = all.substring(all.lastIndexOf('\n') + 1);
        assertTrue(e.startsWith("arbor bench: "), e);
        assertTrue(e.contains(fragment), "'" + fragment + "' in: " + e);
    }

    @Test
    void missingUrl() {
        assertOneLineError(run("--num-prompts", "3"), 2, "--url");
    }

    @Test
    void notANumber() {
        assertOneLineError(run("--url", "http://127.0.0.1:1", "--num-prompts", "many"), 2, "--num-prompts");
    }

    @Test
    void unknownOption() {
        assertOneLineError(run("--url", "http://127.0.0.1:1", "--prompts", "3"), 2, "--prompts");
    }

    @Test
    void badValues() {
        assertOneLineError(run("--url", "localhost:8000"), 2, "--url must look like http://HOST:PORT");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--endpoint", "embeddings"), 2, "--endpoint");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--dataset", "sharegpt"), 2, "--dataset");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--request-rate", "0"), 2, "--request-rate");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--request-rate", "fast"), 2, "--request-rate");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--output-len", "0"), 2, "--output-len must be positive");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--concurrency", "-1"), 2, "--concurrency");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--dataset", "shared-prefix", "--num-prompts", "10",
                "--num-groups", "3"), 2, "not a multiple of --num-groups 3");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--dataset", "file"), 2, "--dataset-path");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--dataset", "/no/such.jsonl"), 2, "dataset file not found");
        err.getBuffer().setLength(0);
        assertOneLineError(run("--url", "http://h:1", "--plot", "x.pdf"), 2, "--plot must end in");
    }

    @Test
    void unreachableServer() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertOneLineError(run("--url", "http://127.0.0.1:" + port, "--no-progress"), 1,
                "cannot reach the server at http://127.0.0.1:" + port + ": connection refused");
    }

    @Test
    void wrongModelName() throws Exception {
        try (CannedSseServer server = new CannedSseServer()) {
            assertOneLineError(run("--url", server.url().toString(), "--model", "gpt-9"), 1,
                    "does not serve model 'gpt-9' (it serves canned)");
        }
    }

    @Test
    void aRejectedWarmUpStopsTheRunWithTheServersReason(@TempDir Path dir) throws Exception {
        Path prompts = dir.resolve("p.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"one two\"}\n");
        try (CannedSseServer server = new CannedSseServer()) {
            server.errorStatus = 400;
            assertOneLineError(run("--url", server.url().toString(), "--dataset", prompts.toString()), 1,
                    "the warm-up request failed (HTTP 400): canned failure");
            assertEquals(1, server.requests.get(), "nothing is sent after the warm-up fails");
        }
    }

    @Test
    void sharedPrefixSettingsDeriveTheCount() {
        CommandLine cmd = BenchCommand.commandLine();
        cmd.parseArgs("--url", "http://h:8000/v1/", "--dataset", "shared-prefix", "--num-groups", "4",
                "--prompts-per-group", "5");
        BenchSettings s = ((BenchCommand) cmd.getCommand()).settings();
        assertEquals(20, s.numPrompts());
        assertEquals(5, s.promptsPerGroup());
        assertEquals("http://h:8000", s.url().toString(), "a trailing /v1 is accepted");
        assertTrue(Double.isInfinite(s.requestRate()));
    }

    @Test
    void fileRunWritesReportJsonAndPlot(@TempDir Path dir) throws Exception {
        Path prompts = dir.resolve("p.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"one two three\"}\n{\"messages\": [{\"role\": \"user\", "
                + "\"content\": \"four five\"}]}\n");
        Path json = dir.resolve("r.json");
        Path plot = dir.resolve("r.html");
        try (CannedSseServer server = new CannedSseServer()) {
            server.gapMillis = 2;
            int code = run("--url", server.url().toString(), "--dataset", prompts.toString(), "--num-prompts", "12",
                    "--output-len", "5", "--concurrency", "4", "--request-rate", "200", "--output", json.toString(),
                    "--plot", plot.toString(), "--warmup", "0");
            assertEquals(0, code, err.toString());
            assertEquals(12, server.requests.get());
            assertTrue(server.maxInFlight.get() <= 4);
        }
        String screen = out.toString();
        assertTrue(screen.contains("Successful requests:") && screen.contains("P99 TTFT (ms):"), screen);
        JsonNode r = new ObjectMapper().readTree(json.toFile());
        assertEquals(12, r.get("completed").asInt());
        assertEquals(0, r.get("failed").asInt());
        assertEquals(60, r.get("total_output_tokens").asInt());
        assertEquals(6 * 3 + 6 * 2, r.get("total_input_tokens").asInt());
        assertEquals("canned", r.get("model").asText());
        assertEquals(12, r.get("requests").size());
        assertTrue(r.get("itl_ms").get("p50").asDouble() > 0);
        assertTrue(Files.readString(plot).contains("<svg"));
        assertTrue(err.toString().contains("12/12 requests"), err.toString());
    }
}
