package ai.arbor.http;

import ai.arbor.config.PemTls;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;

/** HTTPS for a Pekko HTTP server from {@link PemTls}: each connection takes the newest certificate. */
public final class HttpsContext {
    private HttpsContext() {}

    public static HttpsConnectionContext server(PemTls tls) {
        return ConnectionContext.httpsServer(() -> {
            SSLEngine engine = tls.current().createSSLEngine();
            engine.setUseClientMode(false);
            return engine;
        });
    }
}
