package ai.arbor.gpu.backend.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA backend against the transformers references of the tiny models, the CPU backend, and batched vs single
 * requests through the engine. Runs only where a CUDA device and the compiled kernels are present; skipped elsewhere.
 */
class CudaBackendTest {
    private static final Path ROOT = findRoot();

    @BeforeEach
    void needsGpu() {
        assumeTrue(CudaBackend.isAvailable(), "no CUDA device (or no compiled kernels) here: CUDA tests skipped");
    }

    @Test
    void tinyQwen2MatchesReferences() throws Exception {
        check("tiny-qwen2", false);
    }

    @Test
    void tinyLlamaMatchesReferences() throws Exception {
        check("tiny-llama", false);
    }

    @Test
    void withAnFp32KvCacheLogitsMatchWithinTheReferencesOwnTolerance() throws Exception {
        check("tiny-qwen2", true);
        check("tiny-llama", true);
    }

    private static void check(String model, boolean kvFloat32) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        CudaSelfCheck.Report r = CudaSelfCheck.check(ROOT.resolve("models").resolve(model),
                ROOT.resolve("gpu/model/src/test/resources/reference").resolve(model + ".json"), 0, kvFloat32,
                new PrintStream(log, true));
        System.out.print(log);
        assertTrue(r.passed(), r + "\n" + log);
    }

    private static Path findRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("models/tiny-qwen2"))) p = p.getParent();
        return p == null ? Path.of("..") : p;
    }
}
