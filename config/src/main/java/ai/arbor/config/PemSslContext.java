package ai.arbor.config;

import java.io.IOException;
import java.io.InputStream;
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
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A client {@link SSLContext} from PEM files (the form Kubernetes TLS Secrets and cert-manager hand out), for clients
 * that take a JSSE context (jnats): the CA file's certificates are trusted, and a PKCS#8 key with its certificate
 * chain, when given, is presented for mutual TLS. Without a CA file, the JVM's default trust store is used. The files
 * are read once; where rotated files must take effect without a restart (the KV data plane, HTTPS), {@link PemTls}
 * re-reads them.
 */
public final class PemSslContext {
    private static final char[] IN_MEMORY = "arbor".toCharArray();

    private PemSslContext() {}

    public static SSLContext client(ClusterSecuritySettings.Pem pem) {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            if (pem.caFile().isPresent()) {
                KeyStore cas = emptyStore();
                int i = 0;
                for (Certificate c : certificates(pem.caFile().get())) cas.setCertificateEntry("ca-" + i++, c);
                trust.init(cas);
            } else {
                trust.init((KeyStore) null);
            }
            KeyManagerFactory keys = null;
            if (pem.keyFile().isPresent()) {
                KeyStore store = emptyStore();
                Certificate[] chain = certificates(pem.certFile().orElseThrow()).toArray(new Certificate[0]);
                store.setKeyEntry("client", privateKey(pem.keyFile().get()), IN_MEMORY, chain);
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, IN_MEMORY);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot build a TLS context from " + pem + ": " + e.getMessage(), e);
        }
    }

    private static KeyStore emptyStore() throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        return ks;
    }

    private static Collection<? extends Certificate> certificates(Path file) throws GeneralSecurityException, IOException {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) throw new IllegalArgumentException(file + " holds no PEM certificate");
            return certs;
        }
    }

    /** An unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY}), RSA or EC. */
    static PrivateKey privateKey(Path file) throws GeneralSecurityException, IOException {
        String text = Files.readString(file);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < 0) {
            throw new IllegalArgumentException(file + " is not an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); convert it with "
                    + "`openssl pkcs8 -topk8 -nocrypt`");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[]{"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException wrongAlgorithm) {
                // try the next one
            }
        }
        throw new IllegalArgumentException(file + ": a PKCS#8 key that is neither RSA, EC nor Ed25519");
    }
}
