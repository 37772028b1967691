package ai.arbor.cluster.node;

import ai.arbor.actors.kvevents.JetStreamKvEventBus;
import ai.arbor.config.ClusterSecuritySettings;
import ai.arbor.config.PemSslContext;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's link to NATS for KV-aware routing: workers publish their engine's KV events to the JetStream stream, and
 * frontends in router mode {@code kv} read them and share their in-flight load over NATS core. One connection per
 * process, reconnecting forever once it has connected (the bus and routers ride out NATS restarts by themselves).
 */
public final class NodeKvEvents implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeKvEvents.class);

    private final Connection connection;
    private final JetStreamKvEventBus bus;

    private NodeKvEvents(Connection connection, JetStreamKvEventBus bus) {
        this.connection = connection;
        this.bus = bus;
    }

    /** Connects to {@code url} and creates (or updates) the KV event stream; throws with a one-line reason if it cannot. */
    public static NodeKvEvents connect(String url, String connectionName, ClusterSecuritySettings.ServiceAccess access) {
        Connection nc;
        try {
            Options.Builder options = Options.builder().server(url).connectionName(connectionName)
                    .maxReconnects(-1).reconnectWait(Duration.ofMillis(250)).connectionTimeout(Duration.ofSeconds(5));
            if (!access.user().isEmpty()) options.userInfo(access.user(), access.password());
            if (!access.token().isEmpty()) options.token(access.token().toCharArray());
            if (access.usesTls()) options.sslContext(PemSslContext.client(access.tls()));
            nc = Nats.connect(options.build());
        } catch (Exception e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            throw new IllegalStateException("cannot reach NATS at " + url + " (KV events for the KV-aware router): " + e.getMessage(), e);
        }
        try {
            return new NodeKvEvents(nc, new JetStreamKvEventBus(nc, JetStreamKvEventBus.Settings.defaults()));
        } catch (RuntimeException e) {
            closeQuietly(nc);
            throw e;
        }
    }

    public Connection connection() { return connection; }

    public JetStreamKvEventBus bus() { return bus; }

    @Override
    public void close() {
        bus.close();
        closeQuietly(connection);
    }

    private static void closeQuietly(Connection nc) {
        try {
            nc.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("closing the NATS connection", e);
        }
    }
}
