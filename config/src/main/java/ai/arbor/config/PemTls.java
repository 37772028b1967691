package ai.arbor.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS context from PEM files (a certificate chain and its PKCS#8 private key, as cert-manager and most CAs write
 * them, and optionally the CA certificates to trust as a client), rebuilt when any file changes: {@link #current()} is
 * called per new connection, so a renewed certificate takes effect without a restart, and a broken renewal keeps the
 * last good one. Without a CA file the JVM's default trust store checks the servers this context connects to.
 */
public final class PemTls {
    private static final Pattern PRIVATE_KEY =
            Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    /** How often the files' modification times are looked at, at most. */
    private static final long CHECK_NANOS = 1_000_000_000L;

    private final Path certFile;
    private final Path keyFile;
    private final Path caFile;
    private SSLContext context;
    private long stamp;
    private long checkedAt;
    private Exception lastReloadError;

    /** Loads both files now; fails with a message naming the file when either is unusable. */
    public PemTls(Path certFile, Path keyFile) {
        this(certFile, keyFile, null);
    }

    /** As {@link #PemTls(Path, Path)}, trusting the certificates in {@code caFile} (null: the JVM's) as a client. */
    public PemTls(Path certFile, Path keyFile, Path caFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.caFile = caFile;
        try {
            stamp = stamps();
            context = load(certFile, keyFile, caFile);
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS: cannot use certificate " + certFile + " with key " + keyFile
                    + (caFile == null ? "" : " and CA " + caFile) + ": " + e.getMessage(), e);
        }
        checkedAt = System.nanoTime();
    }

    /** The context to use for a new connection: reloaded first if a file changed since the last load. */
    public synchronized SSLContext current() {
        long now = System.nanoTime();
        if (now - checkedAt < CHECK_NANOS) return context;
        checkedAt = now;
        try {
            long current = stamps();
            if (current == stamp) return context;
            context = load(certFile, keyFile, caFile);
            stamp = current;
            lastReloadError = null;
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            // half-written renewal (cert replaced before key) or a bad file: keep serving with the last good pair,
            // and try again on a later connection
            lastReloadError = e;
        }
        return context;
    }

    /** Why the last reload failed, or null when the files in use are the newest. */
    public synchronized Exception lastReloadError() { return lastReloadError; }

    private long stamps() throws IOException {
        long s = stamp(certFile) * 31 + stamp(keyFile);
        return caFile == null ? s : s * 31 + stamp(caFile);
    }

    private static long stamp(Path p) throws IOException {
        return Files.getLastModifiedTime(p).toMillis() * 31 + Files.size(p);
    }

    static SSLContext load(Path certFile, Path keyFile, Path caFile) throws IOException, GeneralSecurityException {
        Certificate[] chain = certificates(certFile);
        PrivateKey key = privateKey(Files.readString(keyFile, StandardCharsets.US_ASCII), keyFile);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] none = new char[0];
        store.setKeyEntry("arbor", key, none, chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, none);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), caFile == null ? null : trust(caFile), null);
        return ctx;
    }

    private static Certificate[] certificates(Path file) throws IOException, GeneralSecurityException {
        Certificate[] certs = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file))).toArray(Certificate[]::new);
        if (certs.length == 0) throw new IllegalArgumentException(file + " holds no PEM certificate");
        return certs;
    }

    private static TrustManager[] trust(Path caFile) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        Certificate[] cas = certificates(caFile);
        for (int i = 0; i < cas.length; i++) store.setCertificateEntry("ca" + i, cas[i]);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return tmf.getTrustManagers();
    }

    private static PrivateKey privateKey(String pem, Path file) throws GeneralSecurityException {
        Matcher m = PRIVATE_KEY.matcher(pem);
        if (!m.find()) {
            throw new IllegalArgumentException(file + " holds no unencrypted PKCS#8 key ('BEGIN PRIVATE KEY'); convert"
                    + " one with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "EdDSA"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new IllegalArgumentException(file + ": the key is neither RSA, EC nor EdDSA");
    }
}
