package ai.arbor.config;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * {@code arbor.frontend}'s authentication and TLS: the API keys {@code /v1/*} requires (none: open), whether
 * {@code /metrics} and the Arbor routes of a node's management port require one too, and the PEM files of the HTTPS
 * port (none: plain HTTP).
 */
public record HttpSecurity(ApiKeys apiKeys, boolean metricsRequireKey, boolean managementRequireKey,
                           Path tlsCertFile, Path tlsKeyFile) {

    /** @param c the {@code arbor.frontend} block */
    public static HttpSecurity from(Config c) {
        String keysFile = c.getString("api-keys-file").trim();
        ApiKeys keys = ApiKeys.load(c.getString("api-key"), keysFile.isEmpty() ? null : Path.of(keysFile));
        String cert = c.getString("tls.cert-file").trim();
        String key = c.getString("tls.key-file").trim();
        if (cert.isEmpty() != key.isEmpty()) {
            throw new IllegalArgumentException("arbor.frontend.tls: cert-file and key-file go together; got only "
                    + (cert.isEmpty() ? "key-file" : "cert-file"));
        }
        return new HttpSecurity(keys, c.getBoolean("metrics-require-key"), c.getBoolean("management-require-key"),
                cert.isEmpty() ? null : Path.of(cert),
                key.isEmpty() ? null : Path.of(key));
    }

    public static HttpSecurity open() { return new HttpSecurity(ApiKeys.none(), false, false, null, null); }

    public boolean tls() { return tlsCertFile != null; }
}
