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
import java.util.function.Supplier;
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
 *
 * <p>Renewing must resume within the TTL of etcd's return, or the lease lapses and every watcher sees this process's
 * keys deleted and written again. etcd restarts every lease with its full TTL, but a gRPC channel that failed through
 * a long outage waits out an exponential reconnect back-off (after 30 s down, the next try came ~13 s after etcd was
 * back: longer than the 10 s TTL). So while renewals fail this class retries every second on a fresh client of its
 * own, whose channel has no back-off to wait out.
 */
public final class LeasedKeys implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeasedKeys.class);

    /** How soon a failed renewal is tried again (on a fresh client). */
    private static final long RETRY_MS = 1000;

    private final Supplier<Client> connect;
    private volatile Client client;
    private final long ttlSeconds;
    private final long periodMs;
    private int failuresInARow;
    private final Map<String, String> keys = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile long leaseId;
    private volatile boolean closed;
    /** Keys written under the current lease; cleared when the lease is lost so they are written again. */
    private final Map<String, String> written = new ConcurrentHashMap<>();

    /**
     * Keeps keys under a lease of {@code ttl}, on clients made by {@code connect}: one now, a new one whenever renewing
     * failed. The clients are this object's own (closed when replaced and on {@link #close}).
     */
    public LeasedKeys(Supplier<Client> connect, Duration ttl) {
        if (ttl.toSeconds() < 2) throw new IllegalArgumentException("lease TTL must be at least 2 s: " + ttl);
        this.connect = connect;
        this.client = connect.get();
        this.ttlSeconds = ttl.toSeconds();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "etcd-lease");
            t.setDaemon(true);
            return t;
        });
        this.periodMs = Math.max(500, ttl.toMillis() / 3);
        timer.execute(this::renewAndReschedule);
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

    private void renewAndReschedule() {
        if (closed) return;
        boolean ok = tick();
        if (!closed) timer.schedule(this::renewAndReschedule, ok ? periodMs : RETRY_MS, TimeUnit.MILLISECONDS);
    }

    /** Renews (or re-grants) the lease and writes keys not yet written under it; false if etcd could not be reached. */
    private boolean tick() {
        if (closed) return true;
        try {
            if (leaseId == 0) {
                leaseId = client.getLeaseClient().grant(ttlSeconds).get(5, TimeUnit.SECONDS).getID();
                written.clear();
                log.info("etcd lease {} granted (TTL {} s)", Long.toHexString(leaseId), ttlSeconds);
            } else {
                long ttl = client.getLeaseClient().keepAliveOnce(leaseId).get(5, TimeUnit.SECONDS).getTTL();
                if (ttl <= 0) {
                    lost("expired");
                    return true;
                }
            }
            for (Map.Entry<String, String> e : keys.entrySet()) {
                if (e.getValue().equals(written.get(e.getKey()))) continue;
                client.getKVClient().put(bytes(e.getKey()), bytes(e.getValue()),
                        PutOption.builder().withLeaseId(leaseId).build()).get(5, TimeUnit.SECONDS);
                written.put(e.getKey(), e.getValue());
            }
            if (failuresInARow > 0) log.info("etcd reachable again after {} failed renewals; lease {} kept", failuresInARow, Long.toHexString(leaseId));
            failuresInARow = 0;
            return true;
        } catch (Exception e) {
            String text = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " " + e.getCause());
            if (text.contains("NOT_FOUND") || text.contains("lease not found")) {
                lost("not found");
                return true;
            }
            if (closed) return true;
            if (failuresInARow++ == 0) {
                log.warn("etcd unreachable, keeping lease {} and retrying every second: {}", Long.toHexString(leaseId), e.toString());
            }
            reconnect();
            return false;
        }
    }

    /** A fresh client: its channel connects at once instead of waiting out the old one's reconnect back-off. */
    private void reconnect() {
        Client old = client;
        try {
            client = connect.get();
        } catch (RuntimeException e) {
            log.debug("could not create an etcd client: {}", e.toString());
            return;
        }
        try {
            old.close();
        } catch (RuntimeException e) {
            log.debug("closing the old etcd client: {}", e.toString());
        }
    }

    private void lost(String why) {
        log.warn("etcd lease {} {}: granting a new one and writing {} keys again", Long.toHexString(leaseId), why, keys.size());
        leaseId = 0;
        written.clear();
        timer.execute(this::tick);
    }

    /** Revokes the lease, so this process's keys disappear at once instead of after the TTL, and closes the client. */
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
        try {
            client.close();
        } catch (RuntimeException e) {
            log.debug("closing the etcd client: {}", e.toString());
        }
    }
}
