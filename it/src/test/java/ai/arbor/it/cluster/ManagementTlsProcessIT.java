package ai.arbor.it.cluster;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.arbor.it.support.ClusterProcesses;
import ai.arbor.it.support.NodeProcess;
import ai.arbor.it.support.TestCertificates;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code arbor node} processes started with the {@code --management-tls-*} flags: they find each other by Cluster
 * Bootstrap over HTTPS, and their management ports answer over HTTPS only.
 */
class ManagementTlsProcessIT extends ClusterProcesses {
    @Test
    void nodesStartedWithManagementTlsFlagsFormAClusterOverHttps() throws Exception {
        assumeTrue(TestCertificates.available(), "openssl not on PATH");
        TestCertificates ca = TestCertificates.newCa("mgmt-cli");
        Path model = Path.of("..", "models", "tiny-qwen2").toAbsolutePath().normalize();
        List<NodeProcess> started = new ArrayList<>();
        for (String name : List.of("f1", "f2")) {
            Path[] keyCert = ca.issue(name);
            NodeProcess n = NodeProcess.create(name, "frontend", etcd.endpoint(), nats.url(), "mgmt-cli", model, MODEL_NAME,
                    List.of("--router-mode", "least-loaded",
                            "--management-tls-cert-file", keyCert[1].toString(),
                            "--management-tls-key-file", keyCert[0].toString(),
                            "--management-tls-ca-file", ca.caCert.toString(),
                            "--management-tls-server-name", "arbor-node"));
            nodes.add(n);
            started.add(n.start());
        }
        HttpClient client = ManagementTlsIT.trusting(ca.caCert);
        for (NodeProcess n : started) {
            String https = n.managementUrl().replace("http://", "https://");
            MultiNodeClusterIT.await(() -> status(client, https + "/ready") == 200, READY, n.name() + " never ready over HTTPS");
            // one node may form the cluster before the other registers; the other then joins it over HTTPS probes
            MultiNodeClusterIT.await(() -> upMembers(client, https) == 2, Duration.ofSeconds(60),
                    n.name() + " never saw both nodes Up");
            assertThrows(Exception.class, () -> ManagementTlsIT.get(HttpClient.newHttpClient(), n.managementUrl() + "/ready"),
                    "plain HTTP answered on the management port");
        }
    }

    private static int upMembers(HttpClient client, String https) {
        try {
            return ManagementTlsIT.get(client, https + "/cluster/members").body().split("\"status\":\"Up\"", -1).length - 1;
        } catch (Exception e) {
            return -1;
        }
    }

    private static int status(HttpClient client, String url) {
        try {
            return ManagementTlsIT.get(client, url).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
