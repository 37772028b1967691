package ai.arbor.http;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.cluster.serve.SingleNode;
import java.io.FileInputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS from PEM files made here (keytool, then written out as PEM): the API answers over TLS, and a certificate
 * replaced on disk is the one the next connection gets, without a restart.
 */
class TlsTest {
    @TempDir
    Path dir;

    /** A self-signed certificate for localhost as cert.pem and key.pem (PKCS#8) under {@code dir/name}. */
    static X509Certificate selfSigned(Path dir, String name) throws Exception {
        Path store = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "k", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = new FileInputStream(store.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        X509Certificate cert = (X509Certificate) ks.getCertificate("k");
        byte[] key = ks.getKey("k", "changeit".toCharArray()).getEncoded();
        Files.createDirectories(dir.resolve(name));
        Files.writeString(dir.resolve(name).resolve("cert.pem"), pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(dir.resolve(name).resolve("key.pem"), pem("PRIVATE KEY", key));
        return cert;
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A client that trusts exactly these certificates. */
    static HttpClient trusting(Certificate... certs) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (int i = 0; i < certs.length; i++) trust.setCertificateEntry("c" + i, certs[i]);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static BigInteger servedSerial(HttpClient client, int port) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port
                + "/v1/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":2}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        SSLSession session = r.sslSession().orElseThrow();
        return ((X509Certificate) session.getPeerCertificates()[0]).getSerialNumber();
    }

    @Test
    void servesHttpsAndTakesARenewedCertificateWithoutARestart() throws Exception {
        X509Certificate first = selfSigned(dir, "first");
        X509Certificate second = selfSigned(dir, "second");
        Path live = Files.createDirectories(dir.resolve("live"));
        Files.copy(dir.resolve("first/cert.pem"), live.resolve("cert.pem"));
        Files.copy(dir.resolve("first/key.pem"), live.resolve("key.pem"));
        try (SingleNode node = SyntheticServers.start(Map.of("arbor.frontend.tls.cert-file", live.resolve("cert.pem")
                .toString(), "arbor.frontend.tls.key-file", live.resolve("key.pem").toString()), 0)) {
            assertTrue(node.url().startsWith("https://"), node.url());
            assertEquals(first.getSerialNumber(), servedSerial(trusting(first), node.port()));
            // plain HTTP on the TLS port is not served
            assertThrows(Exception.class, () -> SyntheticServers.HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + node.port() + "/v1/models")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()));

            // renewal: both files replaced, their times moved on so that a coarse file clock still sees the change
            Instant later = Instant.now().plusSeconds(5);
            for (String f : new String[] {"cert.pem", "key.pem"}) {
                Files.copy(dir.resolve("second").resolve(f), live.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                Files.setLastModifiedTime(live.resolve(f), FileTime.from(later));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            BigInteger served = servedSerial(trusting(first, second), node.port());
            while (!served.equals(second.getSerialNumber()) && System.nanoTime() < deadline) {
                Thread.sleep(200);
                // a new client each time: a new connection, which takes the newest context
                served = servedSerial(trusting(first, second), node.port());
            }
            assertEquals(second.getSerialNumber(), served);
        }
    }
}
