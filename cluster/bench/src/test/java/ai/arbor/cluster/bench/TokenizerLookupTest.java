package ai.arbor.cluster.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench tokenizes with the served model's tokenizer, found from the checkout bin/arbor names, or is told. */
class TokenizerLookupTest {
    /** The checkout: the nearest directory above the module's that holds models/. */
    static final Path REPO = checkout();

    private static Path checkout() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("models/tiny-qwen2"))) return p;
        }
        throw new IllegalStateException("no models/tiny-qwen2 above " + Path.of("").toAbsolutePath());
    }

    private static Path withArborHome(Path home, java.util.function.Supplier<Path> lookup) {
        String before = System.getProperty("arbor.home");
        System.setProperty("arbor.home", home.toString());
        try {
            return lookup.get();
        } finally {
            if (before == null) System.clearProperty("arbor.home");
            else System.setProperty("arbor.home", before);
        }
    }

    @Test
    void theServedModelIsFoundUnderTheCheckoutThatBinArborNames() {
        // bin/arbor passes the checkout as -Darbor.home (not an ARBOR_HOME variable), from any working directory
        assertEquals(REPO.resolve("models/tiny-llama"), withArborHome(REPO, () -> TokenizerLookup.find("tiny-llama", null)));
        assertEquals(REPO.resolve("models/tiny-qwen2"), withArborHome(REPO, () -> TokenizerLookup.find("tiny-qwen2", null)));
    }

    @Test
    void aServedNameThatIsADirectoryIsUsedAndAnExplicitTokenizerWins(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        assertEquals(dir, TokenizerLookup.find(dir.toString(), null));
        assertEquals(Path.of("elsewhere"), TokenizerLookup.find(dir.toString(), Path.of("elsewhere")));
    }

    @Test
    void anUnknownModelStopsTheBenchInsteadOfUsingAnotherModelsTokenizer(@TempDir Path emptyHome) {
        BenchException e = assertThrows(BenchException.class,
                () -> withArborHome(emptyHome, () -> TokenizerLookup.find("Qwen/Qwen2.5-1.5B-Instruct", null)));
        assertTrue(e.getMessage().contains("--tokenizer") && e.getMessage().contains("Qwen/Qwen2.5-1.5B-Instruct"), e.getMessage());
    }
}
