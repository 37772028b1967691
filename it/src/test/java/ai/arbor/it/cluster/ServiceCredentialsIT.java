package ai.arbor.it.cluster;

import static ai.arbor.cluster.etcd.EtcdClients.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.arbor.cluster.etcd.EtcdClients;
import ai.arbor.cluster.node.ClusterNode;
import ai.arbor.cluster.node.NodeKvEvents;
import ai.arbor.cluster.node.NodeSettings;
import ai.arbor.config.ClusterSecuritySettings;
import ai.arbor.config.ClusterSecuritySettings.Pem;
import ai.arbor.config.ClusterSecuritySettings.ServiceAccess;
import ai.arbor.it.support.ChildProcess;
import ai.arbor.it.support.FreePorts;
import ai.arbor.it.support.InProcessNodes;
import ai.arbor.it.support.TestCertificates;
import ai.arbor.it.support.Which;
import com.typesafe.config.ConfigFactory;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS and credentials against real servers: a {@code nats-server} that demands TLS with client certificates and a
 * user, an etcd that demands client certificates and has auth enabled, and cluster nodes whose remoting is mutual TLS.
 * The right credentials get in; a wrong password, a missing client certificate or a certificate from another CA do not.
 */
class ServiceCredentialsIT {
    private static TestCertificates certs;
    private static Path[] server;
    private static Path[] client;
    private static ChildProcess nats;
    private static int natsPort;
    private static ChildProcess etcd;
    private static int etcdPort;

    @BeforeAll
    static void servers() throws Exception {
        assumeTrue(TestCertificates.available(), "openssl not on PATH");
        certs = TestCertificates.newCa("services");
        server = certs.issue("server");
        client = certs.issue("client");

        natsPort = FreePorts.next();
        Path conf = certs.dir().resolve("nats.conf");
        Files.writeString(conf, "listen: \"127.0.0.1:" + natsPort + "\"\n"
                + "jetstream { store_dir: \"" + certs.dir().resolve("js") + "\" }\n"
                + "tls { cert_file: \"" + server[1] + "\", key_file: \"" + server[0] + "\", ca_file: \"" + certs.caCert + "\", verify: true }\n"
                + "authorization { users = [ { user: arbor, password: \"s3cret-nats\" } ] }\n");
        nats = new ChildProcess("nats-tls", List.of(Which.find("nats-server", "Debian package nats-server"), "-c", conf.toString()),
                certs.dir().resolve("nats.log"));
        nats.start();
        nats.awaitReady(() -> Files.exists(certs.dir().resolve("nats.log"))
                && read(certs.dir().resolve("nats.log")).contains("Server is ready"), Duration.ofSeconds(30));

        etcdPort = FreePorts.next();
        String url = "https://127.0.0.1:" + etcdPort;
        String peer = "http://127.0.0.1:" + FreePorts.next();
        etcd = new ChildProcess("etcd-tls", List.of(Which.find("etcd", "Debian package etcd-server"),
                "--name", "tls", "--data-dir", certs.dir().resolve("etcd-data").toString(),
                "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "tls=" + peer,
                "--cert-file", server[1].toString(), "--key-file", server[0].toString(),
                "--client-cert-auth", "--trusted-ca-file", certs.caCert.toString(), "--log-level", "warn"),
                certs.dir().resolve("etcd.log"));
        etcd.start();
        // auth: a root user (needed to enable it) and "arbor", who may read and write only under arbor/
        ServiceAccess admin = access("", "", pem(client));
        etcd.awaitReady(() -> canPut(admin, "probe"), Duration.ofSeconds(30));
        try (Client c = EtcdClients.connect(List.of(URI.create(url)), admin)) {
            var auth = c.getAuthClient();
            auth.userAdd(bytes("root"), bytes("root-pw")).get(10, TimeUnit.SECONDS);
            auth.userGrantRole(bytes("root"), bytes("root")).get(10, TimeUnit.SECONDS);
            auth.roleAdd(bytes("arbor")).get(10, TimeUnit.SECONDS);
            auth.roleGrantPermission(bytes("arbor"), bytes("arbor/"), bytes("arbor0"), Permission.Type.READWRITE).get(10, TimeUnit.SECONDS);
            auth.userAdd(bytes("arbor"), bytes("s3cret-etcd")).get(10, TimeUnit.SECONDS);
            auth.userGrantRole(bytes("arbor"), bytes("arbor")).get(10, TimeUnit.SECONDS);
            auth.authEnable().get(10, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        if (nats != null) nats.stop(Duration.ofSeconds(5));
        if (etcd != null) etcd.stop(Duration.ofSeconds(5));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }

    private static Pem pem(Path[] keyAndCert) {
        return new Pem(Optional.of(keyAndCert[0]), Optional.of(keyAndCert[1]), Optional.of(certs.caCert));
    }

    private static Pem caOnly() {
        return new Pem(Optional.empty(), Optional.empty(), Optional.of(certs.caCert));
    }

    private static ServiceAccess access(String user, String password, Pem tls) {
        return new ServiceAccess(user, password, "", tls);
    }

    private static boolean canPut(ServiceAccess access, String key) {
        try (Client c = EtcdClients.connect(List.of(URI.create("https://127.0.0.1:" + etcdPort)), access)) {
            c.getKVClient().put(bytes("arbor/" + key), bytes("1")).get(5, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void natsTakesTheUserWithAClientCertificateAndNobodyElse() {
        String url = "tls://127.0.0.1:" + natsPort;
        try (NodeKvEvents ok = NodeKvEvents.connect(url, "ok", access("arbor", "s3cret-nats", pem(client)))) {
            assertTrue(ok.bus().healthy(), "the KV event bus works over the authenticated connection");
        }
        var wrongPassword = assertThrows(IllegalStateException.class,
                () -> NodeKvEvents.connect(url, "bad", access("arbor", "guess", pem(client))));
        assertTrue(wrongPassword.getMessage().toLowerCase().contains("authorization"), wrongPassword.getMessage());
        assertThrows(IllegalStateException.class, () -> NodeKvEvents.connect(url, "no-cert", access("arbor", "s3cret-nats", caOnly())));
        assertThrows(IllegalStateException.class, () -> NodeKvEvents.connect(url, "anonymous",
                access("", "", pem(client))));
        assertThrows(IllegalStateException.class, () -> NodeKvEvents.connect("nats://127.0.0.1:" + natsPort, "plain",
                ClusterSecuritySettings.none().nats()));
    }

    @Test
    void etcdTakesTheUserWithAClientCertificateWithinItsPermissions() {
        assertTrue(canPut(access("arbor", "s3cret-etcd", pem(client)), "x"), "the arbor user writes under arbor/");
        assertTrue(!canPut(access("arbor", "wrong", pem(client)), "x"), "a wrong password got in");
        assertTrue(!canPut(access("arbor", "s3cret-etcd", caOnly()), "x"), "no client certificate got in");
        try (Client c = EtcdClients.connect(List.of(URI.create("https://127.0.0.1:" + etcdPort)), access("arbor", "s3cret-etcd", pem(client)))) {
            assertThrows(Exception.class, () -> c.getKVClient().put(bytes("elsewhere/x"), bytes("1")).get(5, TimeUnit.SECONDS),
                    "the arbor user wrote outside its prefix");
        }
    }

    /** Settings of an in-process node that uses this class's etcd with {@code etcdAccess} and remoting TLS {@code remoting}. */
    private static NodeSettings node(String cluster, Path[] remotingKeyCert, Path remotingCa) {
        NodeSettings plain = InProcessNodes.settings("https://127.0.0.1:" + etcdPort, cluster, "frontend");
        Map<String, Object> security = new HashMap<>();
        security.put("arbor.node.security.etcd.user", "arbor");
        security.put("arbor.node.security.etcd.password", "s3cret-etcd");
        security.put("arbor.node.security.etcd.key-file", client[0].toString());
        security.put("arbor.node.security.etcd.cert-file", client[1].toString());
        security.put("arbor.node.security.etcd.ca-file", certs.caCert.toString());
        security.put("arbor.node.security.remoting.key-file", remotingKeyCert[0].toString());
        security.put("arbor.node.security.remoting.cert-file", remotingKeyCert[1].toString());
        security.put("arbor.node.security.remoting.ca-file", remotingCa.toString());
        return new NodeSettings(plain.roles(), plain.etcd(), plain.nats(), plain.clusterName(), plain.model(),
                plain.servedModelName(), plain.device(), plain.host(), plain.advertiseHost(), plain.port(),
                plain.managementPort(), plain.remotingPort(), plain.leaseTtl(), plain.drainTimeout(),
                ClusterSecuritySettings.from(ConfigFactory.parseMap(security).withFallback(ConfigFactory.load())
                        .getConfig("arbor.node.security")), plain.advertiseRemotingPort());
    }

    @Test
    void nodesWithTheClustersCaFormAClusterOverMutualTlsAndAStrangerCannotJoin() throws Exception {
        TestCertificates nodesCa = TestCertificates.newCa("nodes");
        TestCertificates strangersCa = TestCertificates.newCa("stranger");
        var base = ConfigFactory.parseMap(Map.of("pekko.loglevel", "WARNING",
                "arbor.node.security.etcd.user", "arbor", "arbor.node.security.etcd.password", "s3cret-etcd",
                "arbor.node.security.etcd.key-file", client[0].toString(), "arbor.node.security.etcd.cert-file", client[1].toString(),
                "arbor.node.security.etcd.ca-file", certs.caCert.toString())).withFallback(ConfigFactory.load());
        try (ClusterNode a = ClusterNode.start(node("tls", nodesCa.issue("a"), nodesCa.caCert), base, Behaviors.empty());
             ClusterNode b = ClusterNode.start(node("tls", nodesCa.issue("b"), nodesCa.caCert), base, Behaviors.empty())) {
            MultiNodeClusterIT.await(() -> a.isUp() && b.isUp() && upMembers(a) == 2, Duration.ofSeconds(60),
                    "two nodes with the cluster's CA did not form one cluster over TLS");
            try (ClusterNode stranger = ClusterNode.start(node("tls", strangersCa.issue("s"), strangersCa.caCert), base, Behaviors.empty())) {
                // it finds the others through etcd and tries to join them: the TLS handshake refuses it, for good
                Thread.sleep(15_000);
                assertEquals(2, upMembers(a), "a node with another CA's certificate joined");
                assertTrue(!stranger.isUp() || upMembers(stranger) == 1, "the stranger is in the cluster");
            }
        }
    }

    private static long upMembers(ClusterNode n) {
        long up = 0;
        for (var m : Cluster.get(n.system()).state().getMembers()) if (m.status() == MemberStatus.up()) up++;
        return up;
    }
}
