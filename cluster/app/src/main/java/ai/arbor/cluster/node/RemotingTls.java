package ai.arbor.cluster.node;

import ai.arbor.config.ClusterSecuritySettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;

/**
 * Mutual TLS between nodes: Artery's {@code tls-tcp} transport with Pekko's {@code RotatingKeysSSLEngineProvider},
 * which reads PEM files (re-reading them as Kubernetes or cert-manager rotates them), requires a certificate from
 * every peer, signed by the cluster's CA. Without it, anyone who can reach the remoting port and knows the cluster's
 * name can join the cluster and receive requests, prompts included.
 */
final class RemotingTls {
    private RemotingTls() {}

    /** The Pekko settings for {@code pem}, or nothing when remoting TLS is off. */
    static Config config(ClusterSecuritySettings.Pem pem) {
        if (!pem.any()) return ConfigFactory.empty();
        String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
        return ConfigFactory.empty()
                .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tls-tcp"))
                .withValue("pekko.remote.artery.ssl.ssl-engine-provider",
                        ConfigValueFactory.fromAnyRef("org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider"))
                .withValue(engine + "key-file", ConfigValueFactory.fromAnyRef(pem.keyFile().orElseThrow().toString()))
                .withValue(engine + "cert-file", ConfigValueFactory.fromAnyRef(pem.certFile().orElseThrow().toString()))
                .withValue(engine + "ca-cert-file", ConfigValueFactory.fromAnyRef(pem.caFile().orElseThrow().toString()));
    }
}
