package ai.arbor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away CA and certificates signed by it, made with the {@code openssl} command (Debian's), as PEM files with
 * PKCS#8 keys: what a Kubernetes TLS Secret holds. Every leaf is valid for 127.0.0.1, localhost and
 * {@code arbor-node} (the name all nodes share, which Pekko's remoting checks between peers), as server and client.
 */
public final class TestCertificates {
    private final Path dir;
    private final Path caKey;
    public final Path caCert;

    private TestCertificates(Path dir) {
        this.dir = dir;
        this.caKey = dir.resolve("ca.key");
        this.caCert = dir.resolve("ca.crt");
    }

    public static boolean available() {
        return Which.available("openssl");
    }

    /** A new CA named {@code name} in a fresh temporary directory. */
    public static TestCertificates newCa(String name) {
        try {
            TestCertificates c = new TestCertificates(Files.createTempDirectory("arbor-certs-" + name + "-"));
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c.caKey.toString(), "-out", c.caCert.toString(),
                    "-days", "2", "-subj", "/CN=" + name + "-ca");
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A key and certificate for {@code cn}: {@code [key, cert]}. */
    public Path[] issue(String cn) {
        return issue(cn, "IP:127.0.0.1,DNS:localhost,DNS:arbor-node");
    }

    /** A key and certificate for {@code cn} valid only for {@code subjectAltNames} (openssl's syntax). */
    public Path[] issue(String cn, String subjectAltNames) {
        Path key = dir.resolve(cn + ".key");
        Path csr = dir.resolve(cn + ".csr");
        Path cert = dir.resolve(cn + ".crt");
        Path ext = dir.resolve(cn + ".ext");
        try {
            Files.writeString(ext, "subjectAltName=" + subjectAltNames + "\n"
                    + "extendedKeyUsage=serverAuth,clientAuth\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=" + cn);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(), "-CAcreateserial",
                "-out", cert.toString(), "-days", "2", "-extfile", ext.toString());
        return new Path[]{key, cert};
    }

    public Path dir() { return dir; }

    private static void openssl(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(cmd + " failed: " + out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
