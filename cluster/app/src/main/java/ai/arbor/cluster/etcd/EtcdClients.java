package ai.arbor.cluster.etcd;

import io.etcd.jetcd.ByteSequence;
import ai.arbor.config.ClusterSecuritySettings;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;

/** Builds jetcd clients from the {@code --etcd http://HOST:2379[,…]} form and converts keys. */
public final class EtcdClients {
    private EtcdClients() {}

    /** Parses a comma-separated endpoint list, rejecting anything that is not an http(s) URL with a port. */
    public static List<URI> parseEndpoints(String endpoints) {
        if (endpoints == null || endpoints.isBlank()) {
            throw new IllegalArgumentException("etcd endpoints are empty: give e.g. --etcd http://127.0.0.1:2379");
        }
        List<URI> uris = new ArrayList<>();
        for (String part : endpoints.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) continue;
            URI uri;
            try {
                uri = URI.create(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bad etcd endpoint '" + s + "': " + e.getMessage(), e);
            }
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null || uri.getPort() < 0) {
                throw new IllegalArgumentException("bad etcd endpoint '" + s + "': expected http://HOST:PORT");
            }
            uris.add(uri);
        }
        if (uris.isEmpty()) throw new IllegalArgumentException("etcd endpoints are empty: '" + endpoints + "'");
        return uris;
    }

    /**
     * A client that fails fast when etcd is down (so callers can keep running on what they know and retry later)
     * instead of waiting for it forever.
     */
    public static Client connect(List<URI> endpoints) {
        return connect(endpoints, ClusterSecuritySettings.none().etcd());
    }

    /** The same, authenticating with {@code access}: etcd user and password, TLS (PEM CA, client certificate). */
    public static Client connect(List<URI> endpoints, ClusterSecuritySettings.ServiceAccess access) {
        ClientBuilder b = Client.builder()
                .endpoints(endpoints)
                .connectTimeout(Duration.ofSeconds(3))
                .keepaliveTime(Duration.ofSeconds(10))
                .keepaliveTimeout(Duration.ofSeconds(5))
                .retryMaxDuration(Duration.ofSeconds(5));
        if (!access.user().isEmpty()) b.user(bytes(access.user())).password(bytes(access.password()));
        if (access.usesTls()) {
            try {
                b.sslContext(ssl -> {
                    access.tls().caFile().ifPresent(ca -> ssl.trustManager(ca.toFile()));
                    if (access.tls().hasClientCertificate()) {
                        ssl.keyManager(access.tls().certFile().orElseThrow().toFile(), access.tls().keyFile().orElseThrow().toFile());
                    }
                });
            } catch (SSLException e) {
                throw new IllegalArgumentException("cannot set up TLS for etcd from " + access.tls() + ": " + e.getMessage(), e);
            }
        }
        return b.build();
    }

    public static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    public static String string(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
