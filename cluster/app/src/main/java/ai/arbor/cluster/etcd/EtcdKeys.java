package ai.arbor.cluster.etcd;

/**
 * Where Arbor keeps things in etcd. Every cluster has its own prefix so several clusters can share one etcd:
 * {@code arbor/<cluster>/nodes/<host:remotingPort>} (one per live node) and
 * {@code arbor/<cluster>/models/<model>/<host:remotingPort>} (one per model a live worker serves).
 */
public final class EtcdKeys {
    public static final String ROOT = "arbor";

    private EtcdKeys() {}

    public static String clusterPrefix(String cluster) {
        requireSegment("cluster name", cluster);
        return ROOT + "/" + cluster + "/";
    }

    public static String nodesPrefix(String cluster) {
        return clusterPrefix(cluster) + "nodes/";
    }

    public static String node(String cluster, String nodeAddress) {
        requireSegment("node address", nodeAddress);
        return nodesPrefix(cluster) + nodeAddress;
    }

    public static String modelsPrefix(String cluster) {
        return clusterPrefix(cluster) + "models/";
    }

    public static String model(String cluster, String model, String workerAddress) {
        requireSegment("model name", model.replace('/', '_'));
        requireSegment("worker address", workerAddress);
        // Model names such as "Qwen/Qwen2.5-0.5B" contain '/', which would add a level; the card keeps the real name.
        return modelsPrefix(cluster) + model.replace('/', '_') + "/" + workerAddress;
    }

    private static void requireSegment(String what, String value) {
        if (value == null || value.isBlank() || value.contains("/")) {
            throw new IllegalArgumentException(what + " must be non-empty and contain no '/': '" + value + "'");
        }
    }
}
