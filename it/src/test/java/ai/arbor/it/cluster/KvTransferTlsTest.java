package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.arbor.actors.kvtransfer.KvBufferPool;
import ai.arbor.actors.kvtransfer.KvTransferClient;
import ai.arbor.actors.kvtransfer.KvTransferServer;
import ai.arbor.actors.kvtransfer.KvTransport;
import ai.arbor.actors.metrics.KvTransferMetrics;
import ai.arbor.config.ClusterSecuritySettings;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.config.PemSslContext;
import ai.arbor.config.PemTls;
import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.engine.EngineConfig;
import ai.arbor.gpu.engine.EngineLoop;
import ai.arbor.gpu.engine.LLMEngine;
import ai.arbor.gpu.kv.KvBlockBatch;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.it.support.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The KV block data plane under mutual TLS with a cluster's certificates (what a worker uses when remoting TLS is on):
 * two real engines in this JVM exchange blocks over real TLS connections, byte for byte (that pulled blocks give the
 * same tokens as computing them is {@code KvTransferTest}'s, over the same code path in the clear); a peer without a certificate,
 * with one from another CA, or speaking plain TCP is refused, and the listener goes on serving the cluster's peers.
 * Rotated PEM files (a renewed Secret) are used from the next connection on, by listener and client, without a restart.
 */
class KvTransferTlsTest {
    static final int BS = 16;
    static HfModel model;
    static TestCertificates cluster;
    static TestCertificates stranger;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        assumeTrue(TestCertificates.available(), "openssl not on PATH");
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models/tiny-qwen2"))) dir = dir.getParent();
        assumeTrue(dir != null, "models/tiny-qwen2 not found");
        model = HfModel.load(dir.resolve("models/tiny-qwen2"));
        cluster = TestCertificates.newCa("kv-cluster");
        stranger = TestCertificates.newCa("kv-stranger");
    }

    @AfterAll
    static void unload() { if (model != null) model.close(); }

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(open);
        for (AutoCloseable c : open) c.close();
    }

    /** An engine stepped by a thread of its own, as a worker runs it. */
    private record Node(LLMEngine engine, EngineLoop loop) implements AutoCloseable {
        @Override
        public void close() {
            loop.close();
            engine.close();
        }
    }

    private Node node(String name) {
        var backend = new CpuBackend(model.config(), model.weights(), 1, 16L << 20);
        LLMEngine engine = new LLMEngine(model, backend, new EngineConfig(BS, 64, 4, 512, 0, true, 0));
        Node n = new Node(engine, new EngineLoop(engine, "engine-" + name));
        n.loop().start();
        open.add(n);
        return n;
    }

    /** A node's transport: its own key and certificate from {@code ca}, trusting the cluster's CA. */
    private static KvTransport tls(TestCertificates ca, String name) { return tls(ca, name, cluster.caCert); }

    /** A node's transport: its own key and certificate from {@code ca}, trusting {@code trusted} only. */
    private static KvTransport tls(TestCertificates ca, String name, Path trusted) {
        Path[] keyCert = ca.issue(name);
        return KvTransport.mutualTls(PemSslContext.client(new ClusterSecuritySettings.Pem(Optional.of(keyCert[0]),
                Optional.of(keyCert[1]), Optional.of(trusted))));
    }

    private InetSocketAddress listen(Node n, KvTransport transport) throws Exception {
        KvTransferServer s = new KvTransferServer(n.engine(), n.loop()::wakeup, new KvTransferMetrics("tls"),
                new KvBufferPool(64L << 20), KvSharingSettings.defaults(), transport, "127.0.0.1", 0);
        open.add(s);
        return new InetSocketAddress("127.0.0.1", s.port());
    }

    private KvTransferClient client(KvTransport transport) {
        KvTransferClient c = new KvTransferClient(new KvTransferMetrics("tls"), new KvBufferPool(64L << 20),
                KvSharingSettings.defaults(), transport);
        open.add(c);
        return c;
    }

    /** Engine {@code n} holding a chain of {@code blocks} blocks of random K/V bytes, as if it had computed them. */
    private static KvBlockBatch hold(Node n, int blocks, long seed) throws Exception {
        var shape = n.engine().exportBlocks(new long[0]);
        n.loop().wakeup();
        int blockBytes = shape.get(10, TimeUnit.SECONDS).blockBytes();
        Random r = new Random(seed);
        long[] hashes = r.longs(blocks).toArray();
        int[] tokens = r.ints(blocks * BS, 1, 1000).toArray();
        ByteBuffer data = ByteBuffer.allocateDirect(blocks * blockBytes);
        while (data.hasRemaining()) data.put((byte) r.nextInt());
        KvBlockBatch batch = new KvBlockBatch(null, hashes, tokens, BS, blockBytes, data.flip());
        var taken = n.engine().importBlocks(batch);
        n.loop().wakeup();
        assertEquals(blocks, taken.get(10, TimeUnit.SECONDS));
        return batch;
    }

    @Test
    void blocksCrossMutualTlsByteForByte() throws Exception {
        Node a = node("a");
        Node b = node("b");
        InetSocketAddress peer = listen(a, tls(cluster, "worker-a"));
        KvBlockBatch held = hold(a, 8, 1);
        KvTransferClient c = client(tls(cluster, "worker-b"));
        KvBlockBatch pulled = c.pull(peer, held.hashes(), Duration.ofSeconds(20));
        assertArrayEquals(held.hashes(), pulled.hashes());
        assertArrayEquals(held.tokens(), pulled.tokens());
        assertEquals(held.data().rewind(), pulled.data(), "the K/V bytes arrive as A holds them");
        var taken = b.engine().importBlocks(pulled);
        b.loop().wakeup();
        assertEquals(8, taken.get(10, TimeUnit.SECONDS), "B caches them");
        c.release(pulled);
    }

    @Test
    void peersWithoutTheClustersCertificateAreRefused() throws Exception {
        Node a = node("a");
        InetSocketAddress peer = listen(a, tls(cluster, "worker-a"));
        long[] hashes = hold(a, 4, 2).hashes();

        KvTransport noCertificate = KvTransport.mutualTls(PemSslContext.client(new ClusterSecuritySettings.Pem(
                Optional.empty(), Optional.empty(), Optional.of(cluster.caCert))));
        KvTransport otherCa = tls(stranger, "intruder");
        for (KvTransport t : List.of(noCertificate, otherCa, KvTransport.plain())) {
            KvTransferClient.KvTransferException refused = assertThrows(KvTransferClient.KvTransferException.class,
                    () -> client(t).pull(peer, hashes, Duration.ofSeconds(20)), t + " got blocks");
            assertFalse(refused.getMessage().contains("deadline"), "refused at once, not timed out: " + refused.getMessage());
        }
        assertEquals(-1, firstReplyByteWithoutACertificate(peer), "the listener answered a peer with no certificate");
        KvBlockBatch ok = client(tls(cluster, "worker-c")).pull(peer, hashes, Duration.ofSeconds(20));
        assertEquals(4, ok.size(), "the listener still serves the cluster's own peers");
    }

    /**
     * A TLS client trusting the cluster's CA but presenting no certificate sends a well-formed pull of nothing, which a
     * listener that let it in would answer with an OK byte: the reply's first byte, or -1 when refused (under TLS 1.3
     * the listener's alert comes after the client's side of the handshake, so either end may see the refusal).
     */
    private static int firstReplyByteWithoutACertificate(InetSocketAddress peer) throws Exception {
        SSLContext noCertificate = PemSslContext.client(new ClusterSecuritySettings.Pem(Optional.empty(), Optional.empty(),
                Optional.of(cluster.caCert)));
        try (SSLSocket s = (SSLSocket) noCertificate.getSocketFactory().createSocket(peer.getAddress(), peer.getPort())) {
            s.setSoTimeout(20_000);
            s.startHandshake();
            OutputStream out = s.getOutputStream();
            // "ARKV", op PULL, timeout 5000 ms, 0 hashes
            out.write(ByteBuffer.allocate(17).putInt(0x41524b56).put((byte) 1).putLong(5000).putInt(0).array());
            out.flush();
            return s.getInputStream().read();
        } catch (SSLException | SocketException e) {
            return -1;
        }
    }

    @Test
    void aClusterPeerRefusesAListenerWithoutTheClustersCertificate() throws Exception {
        Node a = node("a");
        InetSocketAddress impostor = listen(a, tls(stranger, "impostor"));
        long[] hashes = hold(a, 2, 3).hashes();
        assertThrows(KvTransferClient.KvTransferException.class,
                () -> client(tls(cluster, "worker-b")).pull(impostor, hashes, Duration.ofSeconds(20)),
                "a worker never takes blocks from a listener outside the cluster");
    }

    /** A node's PEM files as a mounted Secret holds them: {@code tls.key}, {@code tls.crt}, {@code ca.crt} in {@code dir}. */
    private static Path[] mount(Path dir, Path key, Path cert, Path ca) throws Exception {
        Files.createDirectories(dir);
        Path[] files = {dir.resolve("tls.key"), dir.resolve("tls.crt"), dir.resolve("ca.crt")};
        Path[] from = {key, cert, ca};
        for (int i = 0; i < 3; i++) {
            Files.copy(from[i], files[i], StandardCopyOption.REPLACE_EXISTING); // a new modification time: PemTls sees it
        }
        return files;
    }

    private static KvTransport reloading(Path[] mounted) {
        return KvTransport.mutualTls(new PemTls(mounted[1], mounted[0], mounted[2]));
    }

    private static BigInteger serial(Path cert) throws Exception {
        try (InputStream in = Files.newInputStream(cert)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
        }
    }

    /** The serial of the certificate the listener at {@code peer} presents now (the handshake's first half is enough). */
    private static BigInteger presentedSerial(InetSocketAddress peer, Path... trusted) throws Exception {
        Path cas = Files.createTempFile("kv-cas", ".crt");
        for (Path t : trusted) Files.write(cas, Files.readAllBytes(t), StandardOpenOption.APPEND);
        SSLContext probe = PemSslContext.client(new ClusterSecuritySettings.Pem(Optional.empty(), Optional.empty(), Optional.of(cas)));
        try (SSLSocket s = (SSLSocket) probe.getSocketFactory().createSocket(peer.getAddress(), peer.getPort())) {
            s.setSoTimeout(20_000);
            s.startHandshake();
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
        } finally {
            Files.delete(cas);
        }
    }

    /** Waits (bounded) for PemTls's next look at the files, which comes at most once a second as connections arrive. */
    private static void within(Duration bound, Callable<Boolean> condition, String what) throws Exception {
        long end = System.nanoTime() + bound.toNanos();
        while (!condition.call()) {
            assertTrue(System.nanoTime() < end, what + " within " + bound);
            Thread.sleep(100);
        }
    }

    @Test
    void rotatedCertificatesAreUsedFromTheNextConnectionOn() throws Exception {
        TestCertificates renewed = TestCertificates.newCa("kv-renewed");
        Path dir = Files.createTempDirectory("kv-rotation");
        Path[] a1 = cluster.issue("worker-a1");
        Path[] b1 = cluster.issue("worker-b1");
        Path[] mountedA = mount(dir.resolve("a"), a1[0], a1[1], cluster.caCert);
        Path[] mountedB = mount(dir.resolve("b"), b1[0], b1[1], cluster.caCert);
        Node a = node("a");
        InetSocketAddress peerA = listen(a, reloading(mountedA));
        long[] hashes = hold(a, 4, 4).hashes();
        KvTransferClient b = client(reloading(mountedB));
        b.release(b.pull(peerA, hashes, Duration.ofSeconds(20))); // its connection is kept for the next transfer
        assertEquals(serial(a1[1]), presentedSerial(peerA, cluster.caCert, renewed.caCert));
        // a peer of the renewed CA only: refused while A holds the old files
        KvTransport renewedOnly = tls(renewed, "worker-c", renewed.caCert);
        assertThrows(KvTransferClient.KvTransferException.class, () -> client(renewedOnly).pull(peerA, hashes, Duration.ofSeconds(20)));

        // the Secret is renewed with another CA: certificates and CA file both change, on both workers
        Path[] a2 = renewed.issue("worker-a2");
        Path[] b2 = renewed.issue("worker-b2");
        mount(dir.resolve("a"), a2[0], a2[1], renewed.caCert);
        mount(dir.resolve("b"), b2[0], b2[1], renewed.caCert);
        within(Duration.ofSeconds(10), () -> serial(a2[1]).equals(presentedSerial(peerA, cluster.caCert, renewed.caCert)),
                "the listener presents the renewed certificate");
        assertEquals(4, client(renewedOnly).pull(peerA, hashes, Duration.ofSeconds(20)).size(),
                "a peer that knows only the renewed CA is served: the listener trusts and presents the new files");
        // B's kept connection was made with the old files: the next transfer shakes hands anew, with the new ones
        Node d = node("d");
        InetSocketAddress renewedListener = listen(d, tls(renewed, "worker-d", renewed.caCert));
        long[] onD = hold(d, 2, 5).hashes();
        within(Duration.ofSeconds(10), () -> {
            try {
                b.release(b.pull(renewedListener, onD, Duration.ofSeconds(20)));
                return true;
            } catch (KvTransferClient.KvTransferException stillOld) {
                return false;
            }
        }, "B presents its renewed certificate to a listener that trusts only the renewed CA");
        b.release(b.pull(peerA, hashes, Duration.ofSeconds(20)));
    }
}
