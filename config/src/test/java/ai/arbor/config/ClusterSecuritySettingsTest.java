package ai.arbor.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterSecuritySettingsTest {
    static ClusterSecuritySettings load(Map<String, String> env) {
        return ClusterSecuritySettings.from(ArborConfig.load(Map.of(), null, env).getConfig("arbor.node.security"));
    }

    static String error(Map<String, String> env) {
        return assertThrows(IllegalArgumentException.class, () -> load(env)).getMessage();
    }

    @Test
    void offByDefault() {
        ClusterSecuritySettings s = load(Map.of());
        assertFalse(s.remoting().any());
        assertFalse(s.nats().usesTls());
        assertEquals("", s.etcd().user());
        assertEquals(ClusterSecuritySettings.none(), s);
    }

    @Test
    void credentialsAndPemFilesComeFromTheEnvironment(@TempDir Path dir) throws Exception {
        for (String f : new String[]{"k.pem", "c.pem", "ca.pem"}) Files.writeString(dir.resolve(f), "x");
        ClusterSecuritySettings s = load(Map.of("ARBOR_NATS_USER", "arbor", "ARBOR_NATS_PASSWORD", "pw",
                "ARBOR_NATS_TLS_CA_FILE", dir.resolve("ca.pem").toString(),
                "ARBOR_REMOTING_TLS_KEY_FILE", dir.resolve("k.pem").toString(),
                "ARBOR_REMOTING_TLS_CERT_FILE", dir.resolve("c.pem").toString(),
                "ARBOR_REMOTING_TLS_CA_FILE", dir.resolve("ca.pem").toString(),
                "ARBOR_ETCD_USER", "root", "ARBOR_ETCD_PASSWORD", "etcd-pw"));
        assertEquals("arbor", s.nats().user());
        assertTrue(s.nats().usesTls());
        assertFalse(s.nats().tls().hasClientCertificate());
        assertTrue(s.remoting().hasClientCertificate());
        assertEquals("etcd-pw", s.etcd().password());
        assertFalse(s.toString().contains("etcd-pw") || s.toString().contains("\"pw\""), "secrets in " + s);
        assertTrue(s.nats().toString().contains("password=***"), s.nats().toString());
    }

    @Test
    void halfConfiguredPartsFailWithTheKeysName(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("k.pem"), "x");
        assertTrue(error(Map.of("ARBOR_NATS_PASSWORD", "pw")).contains("arbor.node.security.nats.password is set but arbor.node.security.nats.user is empty"));
        assertTrue(error(Map.of("ARBOR_ETCD_USER", "u")).contains("arbor.node.security.etcd.user is set but"));
        assertTrue(error(Map.of("ARBOR_NATS_USER", "u", "ARBOR_NATS_PASSWORD", "p", "ARBOR_NATS_TOKEN", "t")).contains("exclude each other"));
        assertTrue(error(Map.of("ARBOR_REMOTING_TLS_KEY_FILE", dir.resolve("k.pem").toString())).contains("remoting needs key-file, cert-file and ca-file"));
        assertTrue(error(Map.of("ARBOR_ETCD_TLS_KEY_FILE", dir.resolve("k.pem").toString())).contains("go together"));
        assertTrue(error(Map.of("ARBOR_NATS_TLS_CA_FILE", dir.resolve("missing.pem").toString())).contains("arbor.node.security.nats.ca-file: cannot read"));
        assertEquals(ClusterSecuritySettings.none(), ClusterSecuritySettings.from(ConfigFactory.load().getConfig("arbor.node.security")));
    }

    @Test
    void managementHttpsTakesACertificateKeyAndOptionallyACaAndAServerName(@TempDir Path dir) throws Exception {
        for (String f : new String[]{"k.pem", "c.pem", "ca.pem"}) Files.writeString(dir.resolve(f), "x");
        assertFalse(load(Map.of()).management().on());
        var m = load(Map.of("ARBOR_MANAGEMENT_TLS_KEY_FILE", dir.resolve("k.pem").toString(),
                "ARBOR_MANAGEMENT_TLS_CERT_FILE", dir.resolve("c.pem").toString(),
                "ARBOR_MANAGEMENT_TLS_CA_FILE", dir.resolve("ca.pem").toString(),
                "ARBOR_MANAGEMENT_TLS_SERVER_NAME", "arbor-node")).management();
        assertTrue(m.on());
        assertEquals(dir.resolve("ca.pem").toAbsolutePath(), m.files().caFile().orElseThrow());
        assertEquals("arbor-node", m.serverName());
        assertTrue(load(Map.of("ARBOR_MANAGEMENT_TLS_KEY_FILE", dir.resolve("k.pem").toString(),
                "ARBOR_MANAGEMENT_TLS_CERT_FILE", dir.resolve("c.pem").toString())).management().on(), "the CA is optional");
        assertTrue(error(Map.of("ARBOR_MANAGEMENT_TLS_CERT_FILE", dir.resolve("c.pem").toString()))
                .contains("arbor.node.security.management.key-file and arbor.node.security.management.cert-file go together"));
        assertTrue(error(Map.of("ARBOR_MANAGEMENT_TLS_SERVER_NAME", "arbor-node"))
                .contains("need arbor.node.security.management.cert-file"));
    }
}
