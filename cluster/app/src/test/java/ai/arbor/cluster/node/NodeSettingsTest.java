package ai.arbor.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeSettingsTest {

    private static NodeSettings settings(Map<String, Object> overrides) {
        Map<String, Object> prefixed = new java.util.HashMap<>();
        overrides.forEach((k, v) -> prefixed.put(
                java.util.Set.of("model", "served-model-name", "host", "port", "device").contains(k) ? "arbor." + k : "arbor.node." + k, v));
        return NodeSettings.from(ConfigFactory.parseMap(prefixed).withFallback(ConfigFactory.load()));
    }

    @Test
    void readsRolesEndpointsAndDerivedNames() {
        NodeSettings s = settings(Map.of("roles", "worker, frontend", "etcd", "http://a:2379,http://b:2379",
                "model", "/models/tiny-qwen2", "remoting-port", 25600));
        assertEquals(EnumSet.of(Role.FRONTEND, Role.WORKER), s.roles());
        assertEquals("http://a:2379,http://b:2379", s.etcdEndpoints());
        assertEquals("tiny-qwen2", s.servedModelName());
        assertEquals("127.0.0.1:25600", s.nodeAddress());
    }

    @Test
    void aNodeBehindAProxyAdvertisesItsRemotingPortAndBindsItsOwn() {
        NodeSettings s = settings(Map.of("remoting-port", 25600, "advertise-remoting-port", 31000));
        assertEquals("127.0.0.1:31000", s.nodeAddress(), "the address the others reach and etcd records");
        Config c = NodePekkoConfig.build(s, ConfigFactory.load());
        assertEquals(31000, c.getInt("pekko.remote.artery.canonical.port"));
        assertEquals(25600, c.getInt("pekko.remote.artery.bind.port"));
        assertEquals(25600, settings(Map.of("remoting-port", 25600)).advertiseRemotingPort());
    }

    @Test
    void remotingTlsTurnsOnTlsTcpWithTheRotatingPemProvider(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        for (String f : new String[]{"k", "c", "ca"}) java.nio.file.Files.writeString(dir.resolve(f), "x");
        NodeSettings s = settings(Map.of("security.remoting.key-file", dir.resolve("k").toString(),
                "security.remoting.cert-file", dir.resolve("c").toString(), "security.remoting.ca-file", dir.resolve("ca").toString()));
        Config c = NodePekkoConfig.build(s, ConfigFactory.load());
        assertEquals("tls-tcp", c.getString("pekko.remote.artery.transport"));
        assertEquals(dir.resolve("ca").toString(), c.getString("pekko.remote.artery.ssl.rotating-keys-engine.ca-cert-file"));
        assertEquals("tcp", NodePekkoConfig.build(settings(Map.of()), ConfigFactory.load()).getString("pekko.remote.artery.transport"));
    }

    @Test
    void badValuesAreRejectedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class, () -> settings(Map.of("roles", "frontend,router")));
        assertTrue(e.getMessage().contains("router"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(Map.of("etcd", "127.0.0.1:2379")));
        assertTrue(e.getMessage().contains("127.0.0.1:2379"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(Map.of("cluster-name", "a/b")));
        assertTrue(e.getMessage().contains("a/b"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(Map.of("management-port", 70000)));
        assertTrue(e.getMessage().contains("management-port"), e.getMessage());
    }

    @Test
    void pekkoConfigCarriesAddressesRolesAndDiscovery() {
        NodeSettings s = settings(Map.of("roles", "frontend", "host", "0.0.0.0", "advertise-host", "10.0.0.7",
                "management-port", 8600, "remoting-port", 25601, "cluster-name", "prod", "etcd", "http://e:2379"));
        Config c = NodePekkoConfig.build(s, ConfigFactory.load());
        assertEquals("cluster", c.getString("pekko.actor.provider"));
        assertEquals("10.0.0.7", c.getString("pekko.remote.artery.canonical.hostname"));
        assertEquals("0.0.0.0", c.getString("pekko.remote.artery.bind.hostname"));
        assertEquals(25601, c.getInt("pekko.remote.artery.canonical.port"));
        assertEquals(List.of("frontend"), c.getStringList("pekko.cluster.roles"));
        assertEquals(8600, c.getInt("pekko.management.http.port"));
        assertEquals("prod", c.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name"));
        assertEquals("http://e:2379", c.getString("pekko.discovery.arbor-etcd.endpoints"));
        assertEquals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider", c.getString("pekko.cluster.downing-provider-class"));
    }

    @Test
    void environmentVariablesSetNodeKeysAndCommandLineWins() {
        Config c = ai.arbor.config.ArborConfig.load(Map.of("arbor.node.remoting-port", 25999), null,
                Map.of("ARBOR_ROLES", "worker", "ARBOR_ETCD", "http://etcd-0:2379", "ARBOR_REMOTING_PORT", "25001",
                        "ARBOR_CLUSTER_NAME", "k8s", "ARBOR_MIGRATION_LIMIT", "5"));
        NodeSettings s = NodeSettings.from(c);
        assertEquals(EnumSet.of(Role.WORKER), s.roles());
        assertEquals("http://etcd-0:2379", s.etcdEndpoints());
        assertEquals("k8s", s.clusterName());
        assertEquals(5, ai.arbor.config.ArborSettings.from(c).frontend().migrationLimit());
        assertEquals(25999, s.remotingPort());
    }
}
