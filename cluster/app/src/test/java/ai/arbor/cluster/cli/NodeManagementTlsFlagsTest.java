package ai.arbor.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.cluster.node.NodeSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code arbor node}'s management HTTPS flags land on {@code arbor.node.security.management} and outrank the environment. */
class NodeManagementTlsFlagsTest {
    @Test
    void flagsSetManagementHttpsAndOutrankTheEnvironment(@TempDir Path dir) throws Exception {
        for (String f : new String[]{"k.pem", "c.pem", "ca.pem", "env-ca.pem"}) Files.writeString(dir.resolve(f), "x");
        NodeCommand cmd = new NodeCommand();
        new CommandLine(cmd).parseArgs("--management-tls-cert-file", dir.resolve("c.pem").toString(),
                "--management-tls-key-file", dir.resolve("k.pem").toString(),
                "--management-tls-ca-file", dir.resolve("ca.pem").toString(),
                "--management-tls-server-name", "arbor-node");
        var m = NodeSettings.from(NodeCommand.load(cmd.overrides(), null,
                Map.of("ARBOR_MANAGEMENT_TLS_CA_FILE", dir.resolve("env-ca.pem").toString(),
                        "ARBOR_MANAGEMENT_TLS_SERVER_NAME", "from-env"))).security().management();
        assertTrue(m.on());
        assertEquals(dir.resolve("c.pem").toAbsolutePath(), m.files().certFile().orElseThrow());
        assertEquals(dir.resolve("k.pem").toAbsolutePath(), m.files().keyFile().orElseThrow());
        assertEquals(dir.resolve("ca.pem").toAbsolutePath(), m.files().caFile().orElseThrow());
        assertEquals("arbor-node", m.serverName());
    }
}
