package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.arbor.cluster.node.ClusterNode;
import ai.arbor.cluster.node.NodeSettings;
import ai.arbor.it.support.EtcdProcess;
import ai.arbor.it.support.FreePorts;
import ai.arbor.it.support.TestCertificates;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTPS on the management port ({@code arbor.node.security.management}) with a real etcd: nodes find each other by
 * Cluster Bootstrap over HTTPS and form one cluster, {@code /ready} answers over HTTPS to a client trusting the
 * cluster's CA and not at all over plain HTTP, the probes check certificates against a configured server name, and a
 * node whose management certificate comes from another CA never learns the cluster's seed nodes.
 */
class ManagementTlsIT {
    private static EtcdProcess etcd;

    @BeforeAll
    static void start() {
        assumeTrue(TestCertificates.available(), "openssl not on PATH");
        etcd = EtcdProcess.start();
    }

    @AfterAll
    static void stop() {
        if (etcd != null) etcd.close();
    }

    /** An in-process node of {@code cluster} with management HTTPS from {@code keyCert}, trusting {@code ca}. */
    static ClusterNode node(String cluster, String roles, Path[] keyCert, Path ca, String serverName) {
        Map<String, Object> c = new HashMap<>();
        c.put("arbor.node.etcd", etcd.endpoint());
        c.put("arbor.node.cluster-name", cluster);
        c.put("arbor.node.roles", roles);
        c.put("arbor.host", "127.0.0.1");
        c.put("arbor.port", FreePorts.next());
        c.put("arbor.node.management-port", FreePorts.next());
        c.put("arbor.node.remoting-port", FreePorts.next());
        c.put("arbor.node.lease-ttl", "3s");
        c.put("arbor.node.security.management.key-file", keyCert[0].toString());
        c.put("arbor.node.security.management.cert-file", keyCert[1].toString());
        c.put("arbor.node.security.management.ca-file", ca.toString());
        c.put("arbor.node.security.management.server-name", serverName);
        NodeSettings settings = NodeSettings.from(ConfigFactory.parseMap(c).withFallback(ConfigFactory.load()));
        return ClusterNode.start(settings, ConfigFactory.parseString("pekko.loglevel = WARNING").withFallback(ConfigFactory.load()),
                Behaviors.empty());
    }

    static HttpClient trusting(Path caFile) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = Files.newInputStream(caFile)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static HttpResponse<String> get(HttpClient client, String url) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void nodesBootstrapOverHttpsAndReadyAnswersOnlyOverHttps() throws Exception {
        TestCertificates ca = TestCertificates.newCa("mgmt");
        HttpClient client = trusting(ca.caCert);
        List<ClusterNode> nodes = new ArrayList<>();
        try {
            // no server name: the probes check the certificates against the address dialled (their SAN has 127.0.0.1)
            nodes.add(node("mtls", "frontend", ca.issue("a"), ca.caCert, ""));
            nodes.add(node("mtls", "worker", ca.issue("b"), ca.caCert, ""));
            InProcessBootstrapIT.awaitOneCluster(nodes, Duration.ofSeconds(40));

            ClusterNode a = nodes.get(0);
            String https = "https://127.0.0.1:" + a.settings().managementPort();
            HttpResponse<String> loading = get(client, https + "/ready");
            assertEquals(503, loading.statusCode(), loading.body());
            assertTrue(loading.body().contains("\"code\":\"not_ready\""), loading.body());
            a.health().modelLoaded(true);
            assertEquals(200, get(client, https + "/ready").statusCode());
            assertEquals(200, get(client, https + "/alive").statusCode());
            assertTrue(get(client, https + "/bootstrap/seed-nodes").body().contains(a.settings().nodeAddress()));

            // plain HTTP on the same port gets no HTTP answer, and a client without the cluster's CA no connection
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThrows(Exception.class, () -> get(plain, "http://127.0.0.1:" + a.settings().managementPort() + "/ready"));
            assertThrows(Exception.class, () -> get(plain, https + "/ready"));
        } finally {
            nodes.forEach(ClusterNode::close);
        }
    }

    @Test
    void probesCheckTheSharedServerNameAndANodeWithAnotherCaNeverLearnsTheSeedNodes() throws Exception {
        TestCertificates ca = TestCertificates.newCa("mgmt2");
        TestCertificates other = TestCertificates.newCa("stranger2");
        List<ClusterNode> nodes = new ArrayList<>();
        try {
            // certificates for the one name all nodes share, not for the address they are dialled at (as in Kubernetes,
            // where that is a pod IP): the probes check the server name, else these two could not form a cluster
            nodes.add(node("mtls2", "frontend", ca.issue("a", "DNS:arbor-node"), ca.caCert, "arbor-node"));
            nodes.add(node("mtls2", "worker", ca.issue("b", "DNS:arbor-node"), ca.caCert, "arbor-node"));
            InProcessBootstrapIT.awaitOneCluster(nodes, Duration.ofSeconds(40));
            try (ClusterNode stranger = node("mtls2", "worker", other.issue("s", "DNS:arbor-node"), other.caCert, "arbor-node")) {
                // it finds the others in etcd and probes them; neither handshake succeeds, so it joins nothing
                Thread.sleep(12_000);
                assertFalse(stranger.isUp(), "a node that cannot verify the cluster's management certificates joined it");
                assertEquals(2, InProcessBootstrapIT.upMembers(nodes.get(0)).size());
            }
        } finally {
            nodes.forEach(ClusterNode::close);
        }
    }
}
