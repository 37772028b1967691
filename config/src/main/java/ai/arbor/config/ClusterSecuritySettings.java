package ai.arbor.config;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How cluster nodes prove who they are to each other, to NATS and to etcd ({@code arbor.node.security}). Everything is
 * off by default (a lab on one host); the production overlay turns all of it on from Kubernetes Secrets.
 *
 * @param remoting mutual TLS between nodes (Pekko remoting over Artery {@code tls-tcp})
 * @param nats     credentials and TLS for the NATS connection (KV events, router load sharing)
 * @param etcd     credentials and TLS for etcd (leases, model cards, bootstrap)
 * @param management HTTPS on the management port, and how Cluster Bootstrap checks other nodes' management ports
 */
public record ClusterSecuritySettings(Pem remoting, ServiceAccess nats, ServiceAccess etcd, ManagementTls management) {

    /**
     * PEM files: a private key (PKCS#8), its certificate chain and the CA certificates to trust. For remoting all three
     * are needed and turn mutual TLS on; for a client only the CA (to check the server) may be given.
     */
    public record Pem(Optional<Path> keyFile, Optional<Path> certFile, Optional<Path> caFile) {
        public boolean hasClientCertificate() { return keyFile.isPresent(); }

        public boolean any() { return keyFile.isPresent() || certFile.isPresent() || caFile.isPresent(); }
    }

    /**
     * A client's access to NATS or etcd: a user and password, or (NATS only) a token, and TLS when {@code tls} names a
     * CA (and, for mutual TLS, a client key and certificate).
     */
    public record ServiceAccess(String user, String password, String token, Pem tls) {
        @Override
        public String toString() {
            // never print secrets
            return "ServiceAccess[user=" + (user.isEmpty() ? "-" : user) + ", password=" + (password.isEmpty() ? "-" : "***")
                    + ", token=" + (token.isEmpty() ? "-" : "***") + ", tls=" + tls + "]";
        }

        public boolean usesTls() { return tls.any(); }
    }

    /**
     * HTTPS on the management port ({@code /ready}, {@code /cluster/members}, {@code /bootstrap/seed-nodes}, ...): the
     * node's key and certificate, and the CA that Cluster Bootstrap trusts when it probes other nodes' management ports
     * (none: the JVM's trust store). Those probes check the certificate against {@code serverName} when set (one name
     * all nodes' certificates share, e.g. {@code arbor-node}: pod IPs are rarely in certificates), else against the
     * address dialled.
     */
    public record ManagementTls(Pem files, String serverName) {
        public boolean on() { return files.certFile().isPresent(); }
    }

    public static ClusterSecuritySettings none() {
        Pem none = new Pem(Optional.empty(), Optional.empty(), Optional.empty());
        return new ClusterSecuritySettings(none, new ServiceAccess("", "", "", none), new ServiceAccess("", "", "", none),
                new ManagementTls(none, ""));
    }

    /** Reads {@code arbor.node.security}; a half-configured part fails with the key's full name. */
    public static ClusterSecuritySettings from(Config security) {
        String at = "arbor.node.security.";
        Pem remoting = pem(security.getConfig("remoting"), at + "remoting.");
        if (remoting.any() && !(remoting.keyFile().isPresent() && remoting.certFile().isPresent() && remoting.caFile().isPresent())) {
            throw new IllegalArgumentException(at + "remoting needs key-file, cert-file and ca-file together (mutual TLS), got " + remoting);
        }
        return new ClusterSecuritySettings(remoting, access(security.getConfig("nats"), at + "nats.", true),
                access(security.getConfig("etcd"), at + "etcd.", false), management(security.getConfig("management"), at + "management."));
    }

    private static ManagementTls management(Config c, String at) {
        Pem files = pem(c, at);
        if (files.keyFile().isPresent() != files.certFile().isPresent()) {
            throw new IllegalArgumentException(at + "key-file and " + at + "cert-file go together");
        }
        String serverName = c.getString("server-name").trim();
        if (files.keyFile().isEmpty() && (files.caFile().isPresent() || !serverName.isEmpty())) {
            throw new IllegalArgumentException(at + "ca-file and " + at + "server-name need " + at + "cert-file and "
                    + at + "key-file (HTTPS on the management port)");
        }
        return new ManagementTls(files, serverName);
    }

    private static ServiceAccess access(Config c, String at, boolean tokens) {
        String user = c.getString("user").trim();
        String password = c.getString("password");
        String token = tokens ? c.getString("token") : "";
        if (!password.isEmpty() && user.isEmpty()) throw new IllegalArgumentException(at + "password is set but " + at + "user is empty");
        if (!user.isEmpty() && password.isEmpty()) throw new IllegalArgumentException(at + "user is set but " + at + "password is empty");
        if (!token.isEmpty() && !user.isEmpty()) throw new IllegalArgumentException(at + "token and " + at + "user exclude each other");
        Pem tls = pem(c, at);
        if (tls.keyFile().isPresent() != tls.certFile().isPresent()) {
            throw new IllegalArgumentException(at + "key-file and " + at + "cert-file go together (a client certificate)");
        }
        return new ServiceAccess(user, password, token, tls);
    }

    private static Pem pem(Config c, String at) {
        return new Pem(file(c, "key-file", at), file(c, "cert-file", at), file(c, "ca-file", at));
    }

    private static Optional<Path> file(Config c, String key, String at) {
        String v = c.getString(key).trim();
        if (v.isEmpty()) return Optional.empty();
        Path p = Path.of(v);
        if (!Files.isReadable(p)) throw new IllegalArgumentException(at + key + ": cannot read " + p.toAbsolutePath());
        return Optional.of(p.toAbsolutePath());
    }
}
