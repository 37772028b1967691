package ai.arbor.cluster.etcd;

import static ai.arbor.cluster.etcd.EtcdClients.bytes;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keys one process keeps alive in etcd, all under one lease (as Dynamo does: instance = lease). A dead process
 * stops renewing, the lease expires after its TTL and etcd deletes its keys, which watchers see.
 *
 * <p>Renewal is a {@code keepAliveOnce} every third of the TTL on our own thread rather than jetcd's streaming
 * keep-alive, so that the state after an etcd outage is explicit: if the lease survived (etcd was back in time) renewing
 * simply resumes; if it expired, a new lease is granted and every key is written again. Keys are therefore eventually
 * present whenever the process lives and etcd is reachable, whatever happened in between.
 */
public final class LeasedKeys implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeasedKeys.class);

    private final Client client;
    private final long ttlSeconds;
    private final Map<String, String> keys = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile long leaseId;
    private volatile boolean closed;
    /** Keys written under the current lease; cleared when the lease is lost so they are written again. */
    private final Map<String, String> written = new ConcurrentHashMap<>();

    public LeasedKeys(Client client, Duration ttl) {
        if (ttl.toSeconds() < 2) throw new IllegalArgumentException("lease TTL must be at least 2 s: " + ttl);
        this.client = client;
        this.ttlSeconds = ttl.toSeconds();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "etcd-lease");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(500, ttl.toMillis() / 3);
        timer.scheduleWithFixedDelay(this::tick, 0, period, TimeUnit.MILLISECONDS);
    }

    /** Keeps {@code key = value} in etcd for as long as this process lives; written now if etcd is reachable. */
    public void put(String key, String value) {
        keys.put(key, value);
        timer.execute(this::tick);
    }

    /** Removes a key now (and stops re-creating it); runs on the lease thread so a renewal cannot write it back. */
    public void remove(String key) {
        try {
            timer.submit(() -> {
                keys.remove(key);
                written.remove(key);
                client.getKVClient().delete(bytes(key)).get(5, TimeUnit.SECONDS);
                return null;
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("could not delete {} from etcd now (it goes when the lease expires): {}", key, e.toString());
        }
    }

    /** True when a lease is held and every key has been written under it. */
    public boolean inSync() {
        return leaseId != 0 && written.equals(keys);
    }

    public long leaseId() { return leaseId; }

    private void tick() {
        if (closed) return;
        try {
            if (leaseId == 0) {
                leaseId = client.getLeaseClient().grant(ttlSeconds).get(5, TimeUnit.SECONDS).getID();
                written.clear();
                log.info("etcd lease {} granted (TTL {} s)", Long.toHexString(leaseId), ttlSeconds);
            } else {
                long ttl = client.getLeaseClient().keepAliveOnce(leaseId).get(5, TimeUnit.SECONDS).getTTL();
                if (ttl <= 0) {
                    lost("expired");
                    return;
                }
            }
            for (Map.Entry<String, String> e : keys.entrySet()) {
                if (e.getValue().equals(written.get(e.getKey()))) continue;
                client.getKVClient().put(bytes(e.getKey()), bytes(e.getValue()),
                        PutOption.builder().withLeaseId(leaseId).build()).get(5, TimeUnit.SECONDS);
                written.put(e.getKey(), e.getValue());
            }
        } catch (Exception e) {
            String text = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " " + e.getCause());
            if (text.contains("NOT_FOUND") || text.contains("lease not found")) {
                lost("not found");
            } else if (!closed) {
                log.warn("etcd unreachable, keeping lease {} and retrying: {}", Long.toHexString(leaseId), e.toString());
            }
        }
    }

    private void lost(String why) {
        log.warn("etcd lease {} {}: granting a new one and writing {} keys again", Long.toHexString(leaseId), why, keys.size());
        leaseId = 0;
        written.clear();
        timer.execute(this::tick);
    }

    /** Revokes the lease, so this process's keys disappear at once instead of after the TTL. */
    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        long id = leaseId;
        if (id != 0) {
            try {
                client.getLeaseClient().revoke(id).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("could not revoke etcd lease {} (its keys go when it expires): {}", Long.toHexString(id), e.toString());
            }
        }
    }
}
