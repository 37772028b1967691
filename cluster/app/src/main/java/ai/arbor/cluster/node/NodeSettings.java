package ai.arbor.cluster.node;

import ai.arbor.cluster.etcd.EtcdClients;
import ai.arbor.config.ClusterSecuritySettings;
import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The validated settings of one cluster node: model, name, device, host and HTTP port from the common {@code arbor}
 * block (shared with {@code arbor serve}), the cluster's own from {@code arbor.node}.
 */
public record NodeSettings(Set<Role> roles, List<URI> etcd, String nats, String clusterName, Path model,
                           String servedModelName, String device, String host, String advertiseHost, int port,
                           int managementPort, int remotingPort, Duration leaseTtl, Duration drainTimeout,
                           ClusterSecuritySettings security, int advertiseRemotingPort) {

    public static NodeSettings from(Config root) {
        Config a = root.getConfig("arbor");
        Config c = root.getConfig("arbor.node");
        Path model = Path.of(a.getString("model")).toAbsolutePath().normalize();
        String served = a.getString("served-model-name").trim();
        if (served.isBlank()) served = model.getFileName() == null ? "model" : model.getFileName().toString();
        String host = a.getString("host");
        String advertise = c.getString("advertise-host");
        if (advertise.isBlank()) advertise = "0.0.0.0".equals(host) ? localAddress() : host;
        String cluster = c.getString("cluster-name");
        if (!cluster.matches("[A-Za-z0-9][A-Za-z0-9_-]*")) {
            throw new IllegalArgumentException("cluster name '" + cluster + "' must be letters, digits, '-' or '_' (it names the Pekko actor system)");
        }
        String nats = c.getString("nats");
        if (!nats.startsWith("nats://") && !nats.startsWith("tls://")) {
            throw new IllegalArgumentException("bad NATS URL '" + nats + "': expected nats://HOST:PORT or tls://HOST:PORT");
        }
        return new NodeSettings(Role.parse(c.getString("roles")), EtcdClients.parseEndpoints(c.getString("etcd")), nats,
                cluster, model, served, a.getString("device"), host, advertise,
                port(a, "port"), port(c, "management-port"), port(c, "remoting-port"),
                c.getDuration("lease-ttl"), c.getDuration("drain-timeout"),
                ClusterSecuritySettings.from(c.getConfig("security")),
                port(c, "advertise-remoting-port") == 0 ? port(c, "remoting-port") : port(c, "advertise-remoting-port"));
    }

    public boolean isFrontend() { return roles.contains(Role.FRONTEND); }

    public boolean isWorker() { return roles.contains(Role.WORKER); }

    /** {@code advertiseHost:advertiseRemotingPort}: the node's identity in etcd and its Pekko address. */
    public String nodeAddress() { return advertiseHost + ":" + advertiseRemotingPort; }

    public String etcdEndpoints() {
        return etcd.stream().map(URI::toString).collect(Collectors.joining(","));
    }

    private static int port(Config c, String key) {
        int p = c.getInt(key);
        if (p < 0 || p > 65535) throw new IllegalArgumentException(key + " out of range 0..65535: " + p);
        return p;
    }

    private static String localAddress() {
        try {
            return InetAddress.getLocalHost().getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("host is 0.0.0.0 and this machine's address is unknown: set advertise-host", e);
        }
    }
}
