package ai.arbor.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ARBOR_* environment variables and the HOCON keys they set. An explicit table rather than {@code ${?VAR}} lines
 * in reference.conf, so that an env var outranks a config file given with --config (Kubernetes sets env vars on top of
 * a mounted file).
 */
public final class EnvironmentVariables {
    private EnvironmentVariables() {}

    /** Env var name to HOCON path, in the order README.md lists them. */
    public static final Map<String, String> MAPPING;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ARBOR_MODEL", "arbor.model");
        m.put("ARBOR_SERVED_MODEL_NAME", "arbor.served-model-name");
        m.put("ARBOR_HOST", "arbor.host");
        m.put("ARBOR_PORT", "arbor.port");
        m.put("ARBOR_DEVICE", "arbor.device");
        m.put("ARBOR_BLOCK_SIZE", "arbor.engine.block-size");
        m.put("ARBOR_NUM_KV_BLOCKS", "arbor.engine.num-kv-blocks");
        m.put("ARBOR_MAX_NUM_SEQS", "arbor.engine.max-num-seqs");
        m.put("ARBOR_MAX_NUM_BATCHED_TOKENS", "arbor.engine.max-num-batched-tokens");
        m.put("ARBOR_MAX_MODEL_LEN", "arbor.engine.max-model-len");
        m.put("ARBOR_ENABLE_PREFIX_CACHING", "arbor.engine.enable-prefix-caching");
        m.put("ARBOR_KV_CACHE_MEMORY", "arbor.engine.kv-cache-memory");
        m.put("ARBOR_KV_HOST_MEMORY", "arbor.engine.kv-host-memory");
        m.put("ARBOR_WORKER_MODE", "arbor.kv-sharing.worker-mode");
        m.put("ARBOR_KV_TRANSFER_PORT", "arbor.kv-sharing.transfer-port");
        m.put("ARBOR_ADVERTISE_KV_TRANSFER_PORT", "arbor.kv-sharing.advertise-transfer-port");
        m.put("ARBOR_DISAGG_MIN_PREFILL_TOKENS", "arbor.kv-sharing.disagg-min-prefill-tokens");
        m.put("ARBOR_THREADS", "arbor.engine.threads");
        m.put("ARBOR_GPU_MEMORY_UTILIZATION", "arbor.engine.gpu-memory-utilization");
        m.put("ARBOR_WORKERS", "arbor.engine.workers");
        m.put("ARBOR_QUANTIZATION", "arbor.engine.quantization");
        m.put("ARBOR_MAX_QUEUED_REQUESTS", "arbor.frontend.max-queued-requests");
        m.put("ARBOR_RETRY_AFTER", "arbor.frontend.retry-after");
        m.put("ARBOR_MAX_BODY_BYTES", "arbor.frontend.max-body-bytes");
        m.put("ARBOR_WORKER_WAIT", "arbor.frontend.worker-wait");
        m.put("ARBOR_MIGRATION_LIMIT", "arbor.frontend.migration-limit");
        m.put("ARBOR_API_KEY", "arbor.frontend.api-key");
        m.put("ARBOR_API_KEYS_FILE", "arbor.frontend.api-keys-file");
        m.put("ARBOR_METRICS_KEY_FILE", "arbor.frontend.metrics-key-file");
        m.put("ARBOR_TLS_CERT_FILE", "arbor.frontend.tls.cert-file");
        m.put("ARBOR_TLS_KEY_FILE", "arbor.frontend.tls.key-file");
        m.put("ARBOR_ROUTER_MODE", "arbor.router.mode");
        m.put("ARBOR_ROUTER_OVERLAP_WEIGHT", "arbor.router.overlap-weight");
        m.put("ARBOR_ROUTER_TEMPERATURE", "arbor.router.temperature");
        m.put("ARBOR_ROUTER_RESET_STATES", "arbor.router.reset-states");
        m.put("ARBOR_TOOL_CALL_PARSER", "arbor.chat.tool-call-parser");
        m.put("ARBOR_REASONING_PARSER", "arbor.chat.reasoning-parser");
        m.put("ARBOR_CHAT_TEMPLATE", "arbor.chat.chat-template");
        // arbor node
        m.put("ARBOR_ROLES", "arbor.node.roles");
        m.put("ARBOR_ETCD", "arbor.node.etcd");
        m.put("ARBOR_NATS", "arbor.node.nats");
        m.put("ARBOR_CLUSTER_NAME", "arbor.node.cluster-name");
        m.put("ARBOR_ADVERTISE_HOST", "arbor.node.advertise-host");
        m.put("ARBOR_MANAGEMENT_PORT", "arbor.node.management-port");
        m.put("ARBOR_REMOTING_PORT", "arbor.node.remoting-port");
        m.put("ARBOR_ADVERTISE_REMOTING_PORT", "arbor.node.advertise-remoting-port");
        m.put("ARBOR_LEASE_TTL", "arbor.node.lease-ttl");
        m.put("ARBOR_DRAIN_TIMEOUT", "arbor.node.drain-timeout");
        // credentials come from the environment (Kubernetes Secrets), never from files in the image
        m.put("ARBOR_REMOTING_TLS_KEY_FILE", "arbor.node.security.remoting.key-file");
        m.put("ARBOR_REMOTING_TLS_CERT_FILE", "arbor.node.security.remoting.cert-file");
        m.put("ARBOR_REMOTING_TLS_CA_FILE", "arbor.node.security.remoting.ca-file");
        m.put("ARBOR_NATS_USER", "arbor.node.security.nats.user");
        m.put("ARBOR_NATS_PASSWORD", "arbor.node.security.nats.password");
        m.put("ARBOR_NATS_TOKEN", "arbor.node.security.nats.token");
        m.put("ARBOR_NATS_TLS_KEY_FILE", "arbor.node.security.nats.key-file");
        m.put("ARBOR_NATS_TLS_CERT_FILE", "arbor.node.security.nats.cert-file");
        m.put("ARBOR_NATS_TLS_CA_FILE", "arbor.node.security.nats.ca-file");
        m.put("ARBOR_ETCD_USER", "arbor.node.security.etcd.user");
        m.put("ARBOR_ETCD_PASSWORD", "arbor.node.security.etcd.password");
        m.put("ARBOR_ETCD_TLS_KEY_FILE", "arbor.node.security.etcd.key-file");
        m.put("ARBOR_ETCD_TLS_CERT_FILE", "arbor.node.security.etcd.cert-file");
        m.put("ARBOR_ETCD_TLS_CA_FILE", "arbor.node.security.etcd.ca-file");
        m.put("ARBOR_MANAGEMENT_TLS_KEY_FILE", "arbor.node.security.management.key-file");
        m.put("ARBOR_MANAGEMENT_TLS_CERT_FILE", "arbor.node.security.management.cert-file");
        m.put("ARBOR_MANAGEMENT_TLS_CA_FILE", "arbor.node.security.management.ca-file");
        m.put("ARBOR_MANAGEMENT_TLS_SERVER_NAME", "arbor.node.security.management.server-name");
        MAPPING = Collections.unmodifiableMap(m);
    }

    /** The settings the given environment makes; empty values count as unset. */
    public static Config from(Map<String, String> env) {
        Map<String, Object> values = new LinkedHashMap<>();
        MAPPING.forEach((var, path) -> {
            String v = env.get(var);
            if (v != null && !v.isBlank()) values.put(path, v.trim());
        });
        return ConfigFactory.parseMap(values, "environment variables");
    }
}
