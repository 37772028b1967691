package ai.arbor.it.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The real services a test class of node processes shares: one Debian etcd and one {@code nats-server -js} for the
 * class, and the nodes each test starts, killed after it.
 */
public abstract class ClusterProcesses {
    protected static final String MODEL_NAME = "tiny";
    protected static final Duration READY = Duration.ofSeconds(120);
    protected static EtcdProcess etcd;
    protected static NatsProcess nats;
    protected final List<NodeProcess> nodes = new ArrayList<>();

    @BeforeAll
    static void services() {
        etcd = EtcdProcess.start();
        nats = NatsProcess.start();
    }

    @AfterAll
    static void stopServices() {
        if (nats != null) nats.close();
        if (etcd != null) etcd.close();
    }

    @AfterEach
    protected void stopNodes() {
        nodes.forEach(NodeProcess::kill);
        nodes.clear();
    }
}
