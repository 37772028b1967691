package ai.arbor.cluster.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
        return Client.builder()
                .endpoints(endpoints)
                .connectTimeout(Duration.ofSeconds(3))
                .keepaliveTime(Duration.ofSeconds(10))
                .keepaliveTimeout(Duration.ofSeconds(5))
                .retryMaxDuration(Duration.ofSeconds(5))
                .build();
    }

    public static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    public static String string(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
