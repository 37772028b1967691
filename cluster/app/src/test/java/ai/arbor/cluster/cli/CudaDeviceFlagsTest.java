package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.arbor.cluster.serve.LoadedModel;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import ai.arbor.config.BatchDefaults;
import ai.arbor.gpu.backend.cuda.CudaBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --device cuda:N} and {@code --gpu-memory-utilization} reach the settings; without a GPU, a one-line error. */
class CudaDeviceFlagsTest {

    @Test
    void serveAndNodeTakeACudaDeviceAndAMemoryFraction() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--device", "cuda:1", "--gpu-memory-utilization", "0.6");
        ArborSettings s = ArborSettings.from(ArborConfig.load(serve.overrides(), null,
                Map.of("ARBOR_GPU_MEMORY_UTILIZATION", "0.3")));
        assertEquals("cuda:1", s.device());
        assertEquals(0.6, s.engine().gpuMemoryUtilization());
        assertEquals(1, CudaBackend.deviceIndex(s.device()));

        NodeCommand node = new NodeCommand();
        new CommandLine(node).parseArgs("--device", "cuda", "--gpu-memory-utilization", "0.8");
        s = ArborSettings.from(ArborConfig.load(node.overrides(), null, Map.of()));
        assertEquals(0, CudaBackend.deviceIndex(s.device()));
        assertEquals(0.8, s.engine().gpuMemoryUtilization());
    }

    @Test
    void aBatchingFlagWinsOverTheCudaDefaultAndTheStartupLineShowsBoth() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--device", "cuda:1", "--max-num-batched-tokens", "8192");
        ArborSettings s = ArborSettings.from(ArborConfig.load(serve.overrides(), null, Map.of()));
        assertEquals(8192, s.engine().maxNumBatchedTokens());
        assertEquals(BatchDefaults.forDevice("cuda").maxNumSeqs(), s.engine().maxNumSeqs());
        assertEquals("arbor: batching on cuda:1: max-num-seqs 256, max-num-batched-tokens 8192 (the defaults for cuda: "
                + "256, 2048)", LoadedModel.batching(s));
        s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of()));
        assertEquals("arbor: batching on cpu: max-num-seqs 256, max-num-batched-tokens 2048 (the defaults for cpu: "
                + "256, 2048)", LoadedModel.batching(s));
    }

    @Test
    void cudaWithoutAGpuFailsWithOneClearLine() {
        assumeFalse(CudaBackend.isAvailable(), "this machine has a CUDA device");
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.device", "cuda:0"), null, Map.of()));
        var e = assertThrows(IllegalArgumentException.class, () -> LoadedModel.load(s, System.err));
        assertTrue(e.getMessage().startsWith("--device cuda:0: no CUDA device found ("), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());

        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int rc;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            rc = new CommandLine(new ServeCommand()).execute("--device", "cuda:0", "--port", "0");
        } finally {
            System.setErr(err);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertEquals(1, rc, out);
        assertTrue(out.contains("arbor serve: --device cuda:0: no CUDA device found ("), out);
        assertFalse(out.contains("\tat "), "no stack trace: " + out);
    }
}
