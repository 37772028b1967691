package ai.arbor.cluster.cli;

import ai.arbor.cluster.node.ArborNode;
import ai.arbor.cluster.node.NodeSettings;
import ai.arbor.cluster.node.ServingModelParts;
import ai.arbor.config.ArborConfig;
import ai.arbor.config.ArborSettings;
import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor node}: one member of a cluster. Nodes find each other through etcd (Cluster Bootstrap), frontends serve
 * the OpenAI API and route to workers across the cluster, workers serve the model. Flags override {@code ARBOR_*}
 * environment variables, which override the HOCON configuration (see docs/operations.md).
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run one node of an Arbor cluster (frontend, worker or both), discovered through etcd.")
public final class NodeCommand implements Callable<Integer> {

    @Option(names = "--roles", paramLabel = "ROLES", description = "frontend, worker or frontend,worker (env ARBOR_ROLES)")
    String roles;

    @Option(names = "--etcd", paramLabel = "URLS", description = "etcd endpoints, e.g. http://HOST:2379[,…] (env ARBOR_ETCD)")
    String etcd;

    @Option(names = "--nats", paramLabel = "URL", description = "NATS server, e.g. nats://HOST:4222 (env ARBOR_NATS)")
    String nats;

    @Option(names = "--cluster-name", paramLabel = "NAME", description = "cluster (actor system and etcd prefix) name, default arbor (env ARBOR_CLUSTER_NAME)")
    String clusterName;

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory (env ARBOR_MODEL)")
    Path model;

    @Option(names = "--served-model-name", paramLabel = "NAME", description = "name clients use (env ARBOR_SERVED_MODEL_NAME)")
    String servedModelName;

    @Option(names = "--device", description = "cpu, cuda:N or synthetic, or for a worker a list of GPUs such as "
            + "cuda:0,cuda:1: one worker on each (env ARBOR_DEVICE)")
    String device;

    @Option(names = "--host", paramLabel = "ADDR", description = "address the HTTP, management and remoting ports bind (env ARBOR_HOST)")
    String host;

    @Option(names = "--advertise-host", paramLabel = "ADDR", description = "address other nodes reach this one at (env ARBOR_ADVERTISE_HOST)")
    String advertiseHost;

    @Option(names = "--port", description = "HTTP API port of a frontend, default 8000 (env ARBOR_PORT)")
    Integer port;

    @Option(names = "--management-port", description = "Pekko Management port, default 8558 (env ARBOR_MANAGEMENT_PORT)")
    Integer managementPort;

    @Option(names = "--remoting-port", description = "Pekko remoting port, default 25520 (env ARBOR_REMOTING_PORT)")
    Integer remotingPort;

    @Option(names = "--advertise-remoting-port", description = "remoting port other nodes connect to when a NAT or proxy "
            + "sits in between, default the remoting port (env ARBOR_ADVERTISE_REMOTING_PORT)")
    Integer advertiseRemotingPort;

    @Option(names = "--migration-limit", description = "times a request may move to another worker when its worker dies, default 3 (env ARBOR_MIGRATION_LIMIT)")
    Integer migrationLimit;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", description = "how long SIGTERM waits for in-flight requests, default 30s (env ARBOR_DRAIN_TIMEOUT)")
    String drainTimeout;

    @Option(names = "--lease-ttl", paramLabel = "DURATION", description = "etcd lease TTL of this node's keys, default 10s (env ARBOR_LEASE_TTL)")
    String leaseTtl;

    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", description = "KV cache size of a worker, e.g. 256MiB (env ARBOR_KV_CACHE_MEMORY)")
    String kvCacheMemory;

    @Option(names = "--kv-host-memory", paramLabel = "SIZE", description = "host KV tier of a worker (evicted blocks, LRU), e.g. 4GiB, default 0 = none (env ARBOR_KV_HOST_MEMORY)")
    String kvHostMemory;

    @Option(names = "--worker-mode", description = "workers: prefill, decode or both (default) for disaggregated serving (env ARBOR_WORKER_MODE)")
    String workerMode;

    @Option(names = "--kv-transfer-port", description = "workers: TCP port of the KV block transfer listener, 0 = any (env ARBOR_KV_TRANSFER_PORT)")
    Integer kvTransferPort;

    @Option(names = "--advertise-kv-transfer-port", description = "workers: KV transfer port other workers dial when a "
            + "NAT or proxy sits in between, default the transfer port (env ARBOR_ADVERTISE_KV_TRANSFER_PORT)")
    Integer advertiseKvTransferPort;

    @Option(names = "--disagg-min-prefill-tokens", description = "frontends: prompts with fewer uncached tokens are prefilled where they decode, default 512 (env ARBOR_DISAGG_MIN_PREFILL_TOKENS)")
    Integer disaggMinPrefillTokens;

    @Option(names = "--threads", description = "CPU compute threads of a worker, 0 = all cores (env ARBOR_THREADS)")
    Integer threads;

    @Option(names = "--gpu-memory-utilization", paramLabel = "FRACTION", description = "fraction of GPU memory a CUDA worker fills, default 0.9 (env ARBOR_GPU_MEMORY_UTILIZATION)")
    Double gpuMemoryUtilization;

    @Option(names = "--quantization", description = "none or fp8: FP8 E4M3 weights with a scale per output channel, "
            + "quantized at load (CPU backend; default none; env ARBOR_QUANTIZATION)")
    String quantization;

    @Option(names = "--router-mode", description = "frontends: kv, round-robin, random or least-loaded (env ARBOR_ROUTER_MODE)")
    String routerMode;

    @Option(names = "--router-reset-states", description = "frontends in kv mode: purge stored KV events and the index snapshot at start (env ARBOR_ROUTER_RESET_STATES)")
    Boolean routerResetStates;

    @Mixin
    HttpSecurityOptions security = new HttpSecurityOptions();

    @Mixin
    ManagementTlsOptions managementTls = new ManagementTlsOptions();

    @Option(names = "--config", paramLabel = "FILE", description = "HOCON file with an arbor { ... } block")
    Path config;

    Map<String, Object> overrides() {
        Map<String, Object> o = new LinkedHashMap<>();
        put(o, "arbor.node.roles", roles);
        put(o, "arbor.node.etcd", etcd);
        put(o, "arbor.node.nats", nats);
        put(o, "arbor.node.cluster-name", clusterName);
        put(o, "arbor.model", model == null ? null : model.toString());
        put(o, "arbor.served-model-name", servedModelName);
        put(o, "arbor.device", device);
        put(o, "arbor.host", host);
        put(o, "arbor.node.advertise-host", advertiseHost);
        put(o, "arbor.port", port);
        put(o, "arbor.node.management-port", managementPort);
        put(o, "arbor.node.remoting-port", remotingPort);
        put(o, "arbor.node.advertise-remoting-port", advertiseRemotingPort);
        put(o, "arbor.frontend.migration-limit", migrationLimit);
        put(o, "arbor.node.drain-timeout", drainTimeout);
        put(o, "arbor.node.lease-ttl", leaseTtl);
        put(o, "arbor.engine.kv-cache-memory", kvCacheMemory);
        put(o, "arbor.engine.kv-host-memory", kvHostMemory);
        put(o, "arbor.kv-sharing.worker-mode", workerMode);
        put(o, "arbor.kv-sharing.transfer-port", kvTransferPort);
        put(o, "arbor.kv-sharing.advertise-transfer-port", advertiseKvTransferPort);
        put(o, "arbor.kv-sharing.disagg-min-prefill-tokens", disaggMinPrefillTokens);
        put(o, "arbor.engine.threads", threads);
        put(o, "arbor.engine.gpu-memory-utilization", gpuMemoryUtilization);
        put(o, "arbor.engine.quantization", quantization);
        put(o, "arbor.router.mode", routerMode);
        security.putInto(o);
        managementTls.putInto(o);
        put(o, "arbor.router.reset-states", routerResetStates);
        return o;
    }

    /**
     * A cluster's frontends route on KV events ({@value #CLUSTER_ROUTER_MODE}) unless a flag, an environment variable or
     * a config file chose a mode: {@code arbor serve}'s single worker gains nothing from it, so the shared reference
     * default stays load-based.
     */
    static final String CLUSTER_ROUTER_MODE = "kv";

    static Config load(Map<String, Object> overrides, Path file, Map<String, String> env) {
        Config loaded = ArborConfig.load(overrides, file, env);
        var origin = loaded.getValue("arbor.router.mode").origin();
        if ("reference.conf".equals(origin.resource())) {
            Map<String, Object> withMode = new java.util.HashMap<>(overrides);
            withMode.put("arbor.router.mode", CLUSTER_ROUTER_MODE);
            loaded = ArborConfig.load(withMode, file, env);
        }
        return loaded;
    }

    private static void put(Map<String, Object> o, String key, Object value) {
        if (value != null) o.put(key, value);
    }

    @Override
    public Integer call() {
        NodeSettings node;
        ArborSettings arbor;
        try {
            Config loaded = load(overrides(), config, System.getenv());
            arbor = ArborSettings.from(loaded);
            node = NodeSettings.from(loaded);
        } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
            System.err.println("arbor node: " + e.getMessage());
            return 2;
        }
        ArborNode running;
        try {
            running = ArborNode.start(node, arbor, new ServingModelParts(System.err));
        } catch (RuntimeException e) {
            System.err.println("arbor node: " + e.getMessage());
            return 1;
        }
        System.out.println("arbor: node " + node.nodeAddress() + " " + node.roles() + " up; management on "
                + (node.security().management().on() ? "https://" : "") + node.host() + ":" + node.managementPort()
                + (node.isFrontend() ? ", OpenAI API on http://" + node.host() + ":" + node.port() + "/v1" : ""));
        System.out.flush();
        // SIGTERM runs CoordinatedShutdown (drain, leave, deregister) through Pekko's JVM shutdown hook; being downed
        // by the cluster terminates the system too. Either way the node ends here.
        running.awaitTermination();
        return 0;
    }
}
