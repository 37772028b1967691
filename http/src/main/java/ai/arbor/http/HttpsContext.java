package ai.arbor.http;

import ai.arbor.config.PemTls;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;

/** HTTPS for Pekko HTTP from {@link PemTls}: each connection takes the newest certificate (and CA). */
public final class HttpsContext {
    private HttpsContext() {}

    public static HttpsConnectionContext server(PemTls tls) {
        return ConnectionContext.httpsServer(() -> {
            SSLEngine engine = tls.current().createSSLEngine();
            engine.setUseClientMode(false);
            return engine;
        });
    }

    /**
     * A client that checks the server's certificate chain against {@code tls}'s CA and its name against
     * {@code serverName}, or against the host it dials when that is empty. Pekko HTTP leaves the name check to an
     * engine given this way, so it is switched on here.
     */
    public static HttpsConnectionContext client(PemTls tls, String serverName) {
        return ConnectionContext.httpsClient((host, port) -> {
            SSLEngine engine = tls.current().createSSLEngine(serverName.isEmpty() ? host : serverName, port);
            engine.setUseClientMode(true);
            SSLParameters params = engine.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(params);
            return engine;
        });
    }
}
