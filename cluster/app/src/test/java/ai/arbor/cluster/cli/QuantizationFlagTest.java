package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.config.Quantization;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --quantization} reaches the settings from {@code serve} and {@code node}; fp8 serves on the CPU backend; the
 * CUDA backend and unknown names fail at start-up with one line.
 */
class QuantizationFlagTest {

    @Test
    void serveAndNodeTakeTheFlag() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--quantization", "fp8");
        assertEquals(Quantization.FP8, ArborSettings.from(ArborConfig.load(serve.overrides(), null, Map.of()))
                .engine().quantization());
        NodeCommand node = new NodeCommand();
        new CommandLine(node).parseArgs("--quantization", "none");
        assertEquals(Quantization.NONE, ArborSettings.from(ArborConfig.load(node.overrides(), null,
                Map.of("ARBOR_QUANTIZATION", "fp8"))).engine().quantization());
    }

    @Test
    void fp8ServesOnTheCpuBackend() {
        try (TinyServe server = TinyServe.start("tiny-qwen2", Map.of("arbor.engine.quantization", "fp8"))) {
            Completion c = server.client().completions().create(CompletionCreateParams.builder().model("tiny-qwen2")
                    .prompt("The secret of life is").maxTokens(8).temperature(0.0).build());
            assertEquals(8, c.usage().orElseThrow().completionTokens());
            assertFalse(c.choices().get(0).text().isBlank(), c.toString());
        }
    }

    @Test
    void cudaRefusesFp8AndUnknownNamesAreRefused() {
        assertEquals("arbor serve: --quantization fp8 is not supported by the cuda backend yet; use --quantization "
                + "none, or --device cpu", run(1, "--device", "cuda:0", "--quantization", "fp8", "--port", "0"));
        assertEquals("arbor serve: arbor.engine.quantization must be one of none, fp8, got 'awq'",
                run(2, "--quantization", "awq", "--port", "0"));
    }

    /** Runs {@code arbor serve} with the arguments, expecting it to exit with {@code rc}; returns its one line. */
    private static String run(int rc, String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int got;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            got = new CommandLine(new ServeCommand()).execute(args);
        } finally {
            System.setErr(err);
        }
        String out = captured.toString(StandardCharsets.UTF_8).strip();
        assertEquals(rc, got, out);
        assertFalse(out.contains("\n"), "one line: " + out);
        return out;
    }
}
