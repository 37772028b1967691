package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.arbor.cluster.serve.LoadedModel;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.gpu.backend.cuda.CudaBackend;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code arbor serve --device} with a list: one worker per listed device, registered with the router as separate
 * workers. A list of {@code synthetic} devices stands in for GPUs here; every GPU-only step (a CUDA backend per
 * device) is not exercised without GPUs.
 */
class DeviceListServeTest {

    private static ArborSettings settings(String... args) {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs(args);
        return ArborSettings.from(ArborConfig.load(serve.overrides(), null, Map.of()));
    }

    @Test
    void aListOfDevicesServesWithOneRegisteredWorkerPerDevice() throws Exception {
        ArborSettings s = settings("--device", "synthetic,synthetic,synthetic", "--port", "0",
                "--served-model-name", "listed");
        try (ServeCommand.Running running = ServeCommand.start(s)) {
            assertEquals(3, running.model().engines().size());
            assertNotSame(running.model().engines().get(0), running.model().engines().get(1), "an engine per device");
            assertEquals(3, running.node().workers().size());
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(running.node().url() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
            JsonNode model = new ObjectMapper().readTree(health.body()).path("models").path(0);
            assertEquals("listed", model.path("model").asText());
            assertEquals(3, model.path("workers").asInt(), "the router lists three workers: " + health.body());
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(running.node().url() + "/v1").apiKey("unused")
                    .maxRetries(0).build();
            Completion c = client.completions().create(CompletionCreateParams.builder().model("listed")
                    .prompt("hello").maxTokens(4).build());
            assertEquals(4, c.usage().orElseThrow().completionTokens());
        }
    }

    @Test
    void workersOfAnotherLengthThanTheListStopServeWithOneLine() {
        String out = serveFails("--device", "cuda:0,cuda:1", "--workers", "3", "--port", "0");
        assertTrue(out.contains("arbor serve: arbor.engine.workers (--workers) is 3 but arbor.device lists 2 devices "
                + "(cuda:0,cuda:1)"), out);
        out = serveFails("--device", "cpu,cuda:0", "--port", "0");
        assertTrue(out.contains("arbor serve: arbor.device 'cpu,cuda:0' mixes cpu and cuda"), out);
        out = serveFails("--device", "cuda:0,cuda:0", "--port", "0");
        assertTrue(out.contains("arbor serve: arbor.device 'cuda:0,cuda:0' names cuda:0 twice"), out);
    }

    @Test
    void aListOfGpusWithoutAGpuFailsBeforeLoadingTheWeights() {
        assumeFalse(CudaBackend.isAvailable(), "this machine has a CUDA device");
        String out = serveFails("--device", "cuda:0,cuda:1", "--port", "0");
        assertTrue(out.contains("arbor serve: --device cuda:0,cuda:1: no CUDA device found ("), out);
        assertFalse(out.contains("arbor: loading"), "nothing loaded: " + out);
    }

    @Test
    void nodeTakesTheSameList() {
        NodeCommand node = new NodeCommand();
        new CommandLine(node).parseArgs("--device", "cuda:0,cuda:1");
        ArborSettings s = ArborSettings.from(ArborConfig.load(node.overrides(), null, Map.of()));
        assertEquals("cuda:0,cuda:1", s.device());
        assertEquals(2, s.engine().workers());
    }

    private static String serveFails(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int rc;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            rc = new CommandLine(new ServeCommand()).execute(args);
        } finally {
            System.setErr(err);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertTrue(rc != 0, out);
        assertFalse(out.contains("\tat "), "no stack trace: " + out);
        return out;
    }
}
