package ai.arbor.cluster.discovery;

import ai.arbor.cluster.etcd.EtcdKeys;
import ai.arbor.cluster.etcd.LeasedKeys;

/**
 * Puts this node under {@code arbor/<cluster>/nodes/} with the process's lease, so Cluster Bootstrap on other nodes
 * (through {@link EtcdServiceDiscovery}) finds it as a contact point, and a dead node drops out within the TTL.
 */
public final class EtcdNodeRegistration {
    private final LeasedKeys leased;
    private final String key;

    public EtcdNodeRegistration(LeasedKeys leased, String cluster, NodeRecord self) {
        this.leased = leased;
        this.key = EtcdKeys.node(cluster, self.address());
        leased.put(key, self.toJson());
    }

    /** Leaving: other nodes stop seeing this one as a contact point at once. */
    public void deregister() {
        leased.remove(key);
    }

    public String key() { return key; }
}
