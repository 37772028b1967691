package ai.arbor.cluster.node;

import ai.arbor.config.ClusterSecuritySettings.ManagementTls;
import ai.arbor.config.PemTls;
import ai.arbor.http.HttpsContext;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * Starts Pekko Management, over HTTPS when {@code arbor.node.security.management} names a certificate. Its server
 * takes the newest PEM files per connection ({@link PemTls}). Cluster Bootstrap then probes other nodes with the
 * scheme of this node's own management URI (https), through Pekko HTTP's default client context, which is therefore
 * set here to trust the configured CA and to check the configured server name.
 */
final class ManagementHttps {
    private ManagementHttps() {}

    static CompletionStage<Uri> start(ActorSystem system, ManagementTls tls) {
        PekkoManagement management = PekkoManagement.get(system);
        if (!tls.on()) return management.start();
        PemTls pem = new PemTls(tls.files().certFile().orElseThrow(), tls.files().keyFile().orElseThrow(),
                tls.files().caFile().orElse(null));
        Http.get(system).setDefaultClientHttpsContext(HttpsContext.client(pem, tls.serverName()));
        return management.start(s -> s.withHttpsConnectionContext(HttpsContext.server(pem)));
    }
}
