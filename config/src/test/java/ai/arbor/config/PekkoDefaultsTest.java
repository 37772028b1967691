package ai.arbor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Arbor's Pekko tuning applies unless the user sets the same keys. */
class PekkoDefaultsTest {
    static final String TCP_WORKERS = "pekko.io.tcp.worker-dispatcher";

    @Test
    void arborsPekkoDefaultsApply() {
        var c = ArborConfig.load(Map.of(), null, Map.of());
        assertEquals("pekko.actor.default-dispatcher", c.getString(TCP_WORKERS));
        assertEquals(8000, c.getInt("arbor.port"), "reference.conf is still there");
    }

    @Test
    void aConfigFileAndFlagsOverrideThem(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("extra.conf");
        Files.writeString(file, TCP_WORKERS + " = \"my-dispatcher\"\n");
        assertEquals("my-dispatcher", ArborConfig.load(Map.of(), file, Map.of()).getString(TCP_WORKERS));
        var c = ArborConfig.load(Map.of(TCP_WORKERS, "pekko.actor.internal-dispatcher"), file, Map.of());
        assertEquals("pekko.actor.internal-dispatcher", c.getString(TCP_WORKERS));
    }
}
