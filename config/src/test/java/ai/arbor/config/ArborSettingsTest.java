package ai.arbor.config;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArborSettingsTest {

    @Test
    void defaultsServeTheTinyModelOnLocalhost8000() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of()));
        assertEquals("tiny-qwen2", s.servedModelName());
        assertEquals(Path.of("models/tiny-qwen2").toAbsolutePath(), s.model());
        assertEquals("127.0.0.1", s.host());
        assertEquals(8000, s.port());
        assertEquals("cpu", s.device());
        assertEquals(16, s.engine().blockSize());
        assertEquals(1L << 30, s.engine().kvCacheMemoryBytes());
        assertEquals(4L << 20, s.frontend().maxBodyBytes());
        assertEquals("least-loaded", s.router().mode());
    }

    @Test
    void flagsBeatEnvironmentWhichBeatsTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("arbor.conf");
        Files.writeString(file, "arbor { port = 7000, host = \"0.0.0.0\", engine.max-num-seqs = 8, model = /m/file-model }");
        Map<String, String> env = Map.of("ARBOR_PORT", "7100", "ARBOR_MAX_NUM_SEQS", "16", "ARBOR_MODEL", "/m/env-model");
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 7200), file, env));
        assertEquals(7200, s.port());
        assertEquals(16, s.engine().maxNumSeqs());
        assertEquals("0.0.0.0", s.host());
        assertEquals("env-model", s.servedModelName(), "served name defaults to the directory name");
    }

    @Test
    void servedModelNameOverridesTheDirectoryName() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(
                Map.of("arbor.model", "/x/y/Qwen2.5-1.5B-Instruct", "arbor.served-model-name", "Qwen/Qwen2.5-1.5B-Instruct"),
                null, Map.of()));
        assertEquals("Qwen/Qwen2.5-1.5B-Instruct", s.servedModelName());
    }

    @Test
    void cudaDevicesParseWithTheirIndex() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of("arbor.device", "cuda:1"), null, Map.of()));
        assertEquals("cuda:1", s.device());
        assertTrue(s.isCuda());
        s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_DEVICE", "CUDA")));
        assertEquals("cuda", s.device());
        assertTrue(s.isCuda());
        assertFalse(ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of())).isCuda());
        for (String bad : new String[] {"cuda:x", "cuda:", "cuda:-1", "cuda:01", "tpu", "cuda0"}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> ArborSettings.from(ArborConfig.load(Map.of("arbor.device", bad), null, Map.of())), bad);
            assertTrue(e.getMessage().contains("arbor.device") && e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void gpuMemoryUtilizationDefaultsTo90PercentAndMustBeAFraction() {
        assertEquals(0.9, ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of())).engine().gpuMemoryUtilization());
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_GPU_MEMORY_UTILIZATION", "0.5")));
        assertEquals(0.5, s.engine().gpuMemoryUtilization());
        s = ArborSettings.from(ArborConfig.load(Map.of("arbor.engine.gpu-memory-utilization", 0.7), null,
                Map.of("ARBOR_GPU_MEMORY_UTILIZATION", "0.5")));
        assertEquals(0.7, s.engine().gpuMemoryUtilization(), "the flag beats the environment");
        for (String bad : new String[] {"0", "1.5", "-0.1"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> ArborSettings.from(
                    ArborConfig.load(Map.of(), null, Map.of("ARBOR_GPU_MEMORY_UTILIZATION", bad))), bad);
            assertTrue(e.getMessage().contains("arbor.engine.gpu-memory-utilization"), e.getMessage());
        }
    }

    @Test
    void quantizationDefaultsToNoneAndTakesVllmsNames() {
        assertEquals(Quantization.NONE, ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of())).engine().quantization());
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_QUANTIZATION", "FP8")));
        assertEquals(Quantization.FP8, s.engine().quantization());
        s = ArborSettings.from(ArborConfig.load(Map.of("arbor.engine.quantization", "none"), null,
                Map.of("ARBOR_QUANTIZATION", "fp8")));
        assertEquals(Quantization.NONE, s.engine().quantization(), "the flag beats the environment");
        var e = assertThrows(IllegalArgumentException.class, () -> ArborSettings.from(
                ArborConfig.load(Map.of("arbor.engine.quantization", "int4"), null, Map.of())));
        assertEquals("arbor.engine.quantization must be one of none, fp8, got 'int4'", e.getMessage());
    }

    @Test
    void badValuesNameTheKey() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ArborSettings.from(ArborConfig.load(Map.of("arbor.port", 70000), null, Map.of())));
        assertTrue(e.getMessage().contains("arbor.port"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_DEVICE", "tpu"))));
        assertTrue(e.getMessage().contains("arbor.device"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_MAX_NUM_SEQS", "many"))));
        assertTrue(e.getMessage().contains("max-num-seqs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_WORKERS", "-1"))));
        assertTrue(e.getMessage().contains("arbor.engine.workers"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of("ARBOR_MIGRATION_LIMIT", "-1"))));
        assertTrue(e.getMessage().contains("arbor.frontend.migration-limit"), e.getMessage());
    }

    @Test
    void oneWorkerAndThreeMovesByDefault() {
        ArborSettings s = ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of()));
        assertEquals(1, s.engine().workers());
        assertEquals(3, s.frontend().migrationLimit());
    }

    @Test
    void everyEnvironmentVariableNamesAnExistingKey() {
        var config = ArborConfig.load(Map.of(), null, Map.of());
        EnvironmentVariables.MAPPING.forEach((var, path) -> assertTrue(config.hasPath(path), var + " -> " + path));
    }

    @Test
    void relativeModelFallsBackToTheArborHome(@TempDir Path home) throws Exception {
        Files.createDirectories(home.resolve("models/only-in-home"));
        String before = System.getProperty("arbor.home");
        System.setProperty("arbor.home", home.toString());
        try {
            assertEquals(home.resolve("models/only-in-home").toAbsolutePath(),
                    ArborSettings.resolveModel(Path.of("models/only-in-home")));
            assertEquals(Path.of("models/missing").toAbsolutePath(), ArborSettings.resolveModel(Path.of("models/missing")));
        } finally {
            if (before == null) System.clearProperty("arbor.home");
            else System.setProperty("arbor.home", before);
        }
    }

    @Test
    void theFrontendsRequestTimeoutIsPekkoHttpsOrElse600Seconds() {
        Map<String, String> none = Map.of();
        assertEquals(java.time.Duration.ofSeconds(7), ArborSettings.from(ArborConfig.load(
                Map.of("pekko.http.server.request-timeout", "7s"), null, none)).frontend().requestTimeout());
        // off in Pekko, or Pekko HTTP not on the class path (as here): embeddings still end after 600 s
        assertEquals(java.time.Duration.ofSeconds(600), ArborSettings.from(ArborConfig.load(
                Map.of("pekko.http.server.request-timeout", "infinite"), null, none)).frontend().requestTimeout());
        assertEquals(java.time.Duration.ofSeconds(600), ArborSettings.from(ArborConfig.load(Map.of(), null, none))
                .frontend().requestTimeout());
        assertEquals("the request timeout (pekko.http.server.request-timeout, 1500ms)",
                FrontendSettings.requestTimeoutText(java.time.Duration.ofMillis(1500)));
    }
}
