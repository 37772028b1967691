package ai.arbor.config;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** max-num-seqs and max-num-batched-tokens: the device's defaults where unset, whatever is set where set. */
class BatchDefaultsTest {

    private static EngineSettings engine(Map<String, ?> flags, Map<String, String> env) {
        return ArborSettings.from(ArborConfig.load(flags, null, env)).engine();
    }

    @Test
    void eachDeviceGetsItsDefaults() {
        for (String device : new String[] {"cpu", "synthetic", "cuda", "cuda:3"}) {
            EngineSettings e = engine(Map.of("arbor.device", device), Map.of());
            BatchDefaults d = BatchDefaults.forDevice(device);
            assertEquals(d.maxNumSeqs(), e.maxNumSeqs(), device);
            assertEquals(d.maxNumBatchedTokens(), e.maxNumBatchedTokens(), device);
        }
        assertSame(BatchDefaults.CUDA, BatchDefaults.forDevice("cuda:1"));
        assertSame(BatchDefaults.CPU, BatchDefaults.forDevice("synthetic"));
        // CPU keeps what it always had
        assertEquals(new BatchDefaults(256, 2048), BatchDefaults.CPU);
        EngineSettings cpu = engine(Map.of(), Map.of());
        assertEquals(256, cpu.maxNumSeqs());
        assertEquals(2048, cpu.maxNumBatchedTokens());
    }

    @Test
    void aSetValueWinsOverTheDeviceDefaultFromEverySource(@TempDir Path dir) throws Exception {
        EngineSettings e = engine(Map.of("arbor.device", "cuda", "arbor.engine.max-num-batched-tokens", 8192), Map.of());
        assertEquals(8192, e.maxNumBatchedTokens());
        assertEquals(BatchDefaults.CUDA.maxNumSeqs(), e.maxNumSeqs(), "the other one keeps its default");

        e = engine(Map.of("arbor.device", "cuda"), Map.of("ARBOR_MAX_NUM_SEQS", "64"));
        assertEquals(64, e.maxNumSeqs());
        assertEquals(BatchDefaults.CUDA.maxNumBatchedTokens(), e.maxNumBatchedTokens());

        Path file = dir.resolve("arbor.conf");
        Files.writeString(file, "arbor { device = cuda, engine { max-num-seqs = 100, max-num-batched-tokens = 3000 } }");
        e = ArborSettings.from(ArborConfig.load(Map.of(), file, Map.of())).engine();
        assertEquals(100, e.maxNumSeqs());
        assertEquals(3000, e.maxNumBatchedTokens());
    }

    @Test
    void aDefaultSequenceLimitIsCappedAtASmallerTokenBudget() {
        // as vLLM: min(default max_num_seqs, max_num_batched_tokens), so every running sequence fits in one step
        EngineSettings e = engine(Map.of("arbor.engine.max-num-batched-tokens", 8), Map.of());
        assertEquals(8, e.maxNumSeqs());
        assertEquals(8, e.maxNumBatchedTokens());
    }

    @Test
    void aBudgetBelowTheSequenceLimitIsRefusedNamingBothKeys() {
        var err = assertThrows(IllegalArgumentException.class, () -> engine(Map.of(
                "arbor.engine.max-num-seqs", 512, "arbor.engine.max-num-batched-tokens", 256), Map.of()));
        assertTrue(err.getMessage().contains("arbor.engine.max-num-batched-tokens (256)")
                && err.getMessage().contains("arbor.engine.max-num-seqs (512)"), err.getMessage());
        err = assertThrows(IllegalArgumentException.class,
                () -> engine(Map.of(), Map.of("ARBOR_MAX_NUM_SEQS", "-1")));
        assertTrue(err.getMessage().contains("arbor.engine.max-num-seqs"), err.getMessage());
        // equal is fine: a step of nothing but decodes
        assertEquals(512, engine(Map.of("arbor.engine.max-num-seqs", 512, "arbor.engine.max-num-batched-tokens", 512),
                Map.of()).maxNumSeqs());
    }
}
