package ai.arbor.cluster.cli;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** The HTTP API's authentication and TLS flags, shared by {@code serve} and {@code node}. */
final class HttpSecurityOptions {
    @Option(names = "--api-key", paramLabel = "KEY", description = "require 'Authorization: Bearer KEY' on /v1/* and"
            + " /metrics (visible to ps: prefer env ARBOR_API_KEY or --api-keys-file)")
    String apiKey;

    @Option(names = "--api-keys-file", paramLabel = "FILE", description = "file of 'NAME KEY' lines; the request log"
            + " shows NAME (env ARBOR_API_KEYS_FILE)")
    Path apiKeysFile;

    @Option(names = "--tls-cert-file", paramLabel = "PEM", description = "HTTPS certificate chain, reloaded when it"
            + " changes (env ARBOR_TLS_CERT_FILE)")
    Path tlsCertFile;

    @Option(names = "--tls-key-file", paramLabel = "PEM", description = "its PKCS#8 private key (env ARBOR_TLS_KEY_FILE)")
    Path tlsKeyFile;

    void putInto(Map<String, Object> o) {
        if (apiKey != null) o.put("arbor.frontend.api-key", apiKey);
        if (apiKeysFile != null) o.put("arbor.frontend.api-keys-file", apiKeysFile.toString());
        if (tlsCertFile != null) o.put("arbor.frontend.tls.cert-file", tlsCertFile.toString());
        if (tlsKeyFile != null) o.put("arbor.frontend.tls.key-file", tlsKeyFile.toString());
    }
}
