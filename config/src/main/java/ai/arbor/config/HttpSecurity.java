package ai.arbor.config;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * {@code arbor.frontend}'s authentication and TLS: the API keys {@code /v1/*} requires (none: open), whether
 * {@code /metrics} and the Arbor routes of a node's management port require one too, and the PEM files of the HTTPS
 * port (none: plain HTTP).
 *
 * @param metricsKeys what {@code /metrics} accepts: the API keys plus the scrape key of {@code metrics-key-file},
 *                    which opens {@code /metrics} and nothing else, so Prometheus holds no key that can run inference
 */
public record HttpSecurity(ApiKeys apiKeys, ApiKeys metricsKeys, boolean metricsRequireKey,
                           boolean managementRequireKey, Path tlsCertFile, Path tlsKeyFile) {
    /** The name the scrape key has in the request log. */
    public static final String METRICS_KEY_NAME = "metrics";

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
        String metricsFile = c.getString("metrics-key-file").trim();
        ApiKeys metricsKeys = metricsFile.isEmpty() ? keys
                : keys.and(ApiKeys.loadSingle(Path.of(metricsFile), METRICS_KEY_NAME, "arbor.frontend.metrics-key-file"));
        return new HttpSecurity(keys, metricsKeys, c.getBoolean("metrics-require-key"), c.getBoolean("management-require-key"),
                cert.isEmpty() ? null : Path.of(cert),
                key.isEmpty() ? null : Path.of(key));
    }

    public static HttpSecurity open() { return new HttpSecurity(ApiKeys.none(), ApiKeys.none(), false, false, null, null); }

    public boolean tls() { return tlsCertFile != null; }
}
