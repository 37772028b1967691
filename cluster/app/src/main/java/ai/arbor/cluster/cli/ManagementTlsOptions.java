package ai.arbor.cluster.cli;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** HTTPS on a node's management port ({@code arbor.node.security.management}), named like the HTTP port's flags. */
final class ManagementTlsOptions {
    @Option(names = "--management-tls-cert-file", paramLabel = "PEM", description = "HTTPS certificate chain of the"
            + " management port, reloaded when it changes (env ARBOR_MANAGEMENT_TLS_CERT_FILE)")
    Path certFile;

    @Option(names = "--management-tls-key-file", paramLabel = "PEM", description = "its PKCS#8 private key"
            + " (env ARBOR_MANAGEMENT_TLS_KEY_FILE)")
    Path keyFile;

    @Option(names = "--management-tls-ca-file", paramLabel = "PEM", description = "CA that bootstrap trusts when it"
            + " probes other nodes' management ports, default the JVM's (env ARBOR_MANAGEMENT_TLS_CA_FILE)")
    Path caFile;

    @Option(names = "--management-tls-server-name", paramLabel = "NAME", description = "name other nodes' management"
            + " certificates must carry, default the address dialled (env ARBOR_MANAGEMENT_TLS_SERVER_NAME)")
    String serverName;

    void putInto(Map<String, Object> o) {
        String at = "arbor.node.security.management.";
        if (certFile != null) o.put(at + "cert-file", certFile.toString());
        if (keyFile != null) o.put(at + "key-file", keyFile.toString());
        if (caFile != null) o.put(at + "ca-file", caFile.toString());
        if (serverName != null) o.put(at + "server-name", serverName);
    }
}
