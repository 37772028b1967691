package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code arbor node} frontends route on KV events by default; any way a user picks a mode still wins. */
class NodeRouterModeTest {
    private static String mode(Map<String, Object> flags, Path file, Map<String, String> env) {
        return ArborSettings.from(NodeCommand.load(new HashMap<>(flags), file, env)).router().mode();
    }

    @Test
    void clusterDefaultIsKvWhileServeKeepsTheReferenceDefault() {
        assertEquals("kv", mode(Map.of(), null, Map.of()));
        assertEquals("least-loaded", ArborSettings.from(ArborConfig.load(Map.of(), null, Map.of())).router().mode(),
                "arbor serve's default");
    }

    @Test
    void flagEnvironmentAndFileEachOverrideTheClusterDefault(@TempDir Path dir) throws Exception {
        assertEquals("round-robin", mode(Map.of("arbor.router.mode", "round-robin"), null, Map.of()));
        assertEquals("random", mode(Map.of(), null, Map.of("ARBOR_ROUTER_MODE", "random")));
        Path file = Files.writeString(dir.resolve("a.conf"), "arbor.router.mode = \"least-loaded\"\n");
        assertEquals("least-loaded", mode(Map.of(), file, Map.of()));
        // a file that sets other router keys but no mode still gets the cluster default
        Path other = Files.writeString(dir.resolve("b.conf"), "arbor.router.overlap-weight = 1.5\n");
        assertEquals("kv", mode(Map.of(), other, Map.of()));
    }
}
