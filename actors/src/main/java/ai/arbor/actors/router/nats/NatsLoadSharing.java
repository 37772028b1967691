package ai.arbor.actors.router.nats;

import ai.arbor.actors.kvevents.KvSubjects;
import ai.arbor.actors.router.kv.LoadSharing;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@link LoadSharing} over NATS core on {@code arbor.router.<model>.load}: each replica announces every routed and
 * released request, and every {@code syncInterval} its whole in-flight set, which repairs lost messages. A replica not
 * heard from for three intervals is forgotten, so a dead frontend's load does not linger, and while NATS is down each
 * replica simply routes on its own load and catches up at the next sync.
 */
public final class NatsLoadSharing implements LoadSharing {
    private static final Logger log = LoggerFactory.getLogger(NatsLoadSharing.class);
    private static final int ROUTED = 1, RELEASED = 2, SYNC = 3;

    private record Entry(long workerId, int tokens) {}

    private static final class Remote {
        final Map<String, Entry> active = new HashMap<>();
        long lastHeardNanos;
    }

    private final Connection nc;
    private final String subject;
    private final long routerId = new SecureRandom().nextLong();
    private final Map<String, Entry> mine = new ConcurrentHashMap<>();
    private final Map<Long, Remote> remotes = new HashMap<>();
    private final Map<Long, long[]> remoteByWorker = new HashMap<>(); // worker -> {tokens, requests}
    private final Dispatcher dispatcher;
    private final ScheduledExecutorService timer;
    private final long expiryNanos;

    public NatsLoadSharing(Connection nc, String model, java.time.Duration syncInterval) {
        this.nc = nc;
        this.subject = "arbor.router." + KvSubjects.modelToken(model) + ".load";
        this.expiryNanos = syncInterval.toNanos() * 3;
        this.dispatcher = nc.createDispatcher(this::onMessage);
        dispatcher.subscribe(subject);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "router-load-sync");
            t.setDaemon(true);
            return t;
        });
        long ms = syncInterval.toMillis();
        timer.scheduleWithFixedDelay(this::syncAndExpire, ms, ms, TimeUnit.MILLISECONDS);
    }

    public long routerId() { return routerId; }

    @Override
    public void routed(String requestId, long workerId, int promptTokens) {
        mine.put(requestId, new Entry(workerId, promptTokens));
        publish(ROUTED, out -> {
            out.writeUTF(requestId);
            out.writeLong(workerId);
            out.writeInt(promptTokens);
        });
    }

    @Override
    public void released(String requestId) {
        if (mine.remove(requestId) != null) publish(RELEASED, out -> out.writeUTF(requestId));
    }

    @Override
    public synchronized long remoteTokens(long workerId) {
        long[] a = remoteByWorker.get(workerId);
        return a == null ? 0 : a[0];
    }

    @Override
    public synchronized int remoteRequests(long workerId) {
        long[] a = remoteByWorker.get(workerId);
        return a == null ? 0 : (int) a[1];
    }

    private interface Body { void write(DataOutputStream out) throws IOException; }

    private void publish(int kind, Body body) {
        if (nc.getStatus() != Connection.Status.CONNECTED) return; // the next sync after reconnecting repairs it
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(routerId);
            out.writeByte(kind);
            body.write(out);
            nc.publish(subject, bytes.toByteArray());
        } catch (IOException | RuntimeException e) {
            log.debug("load sharing publish failed", e);
        }
    }

    private void syncAndExpire() {
        Map<String, Entry> snapshot = Map.copyOf(mine);
        publish(SYNC, out -> {
            out.writeInt(snapshot.size());
            for (var e : snapshot.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue().workerId());
                out.writeInt(e.getValue().tokens());
            }
        });
        synchronized (this) {
            long now = System.nanoTime();
            if (remotes.values().removeIf(r -> now - r.lastHeardNanos > expiryNanos)) recount();
        }
    }

    private void onMessage(Message msg) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(msg.getData()))) {
            long from = in.readLong();
            if (from == routerId) return;
            int kind = in.readUnsignedByte();
            synchronized (this) {
                Remote r = remotes.computeIfAbsent(from, k -> new Remote());
                r.lastHeardNanos = System.nanoTime();
                switch (kind) {
                    case ROUTED -> {
                        String id = in.readUTF();
                        Entry e = new Entry(in.readLong(), in.readInt());
                        add(r.active.put(id, e), -1);
                        add(e, 1);
                    }
                    case RELEASED -> add(r.active.remove(in.readUTF()), -1);
                    case SYNC -> {
                        r.active.clear();
                        int n = in.readInt();
                        for (int i = 0; i < n; i++) r.active.put(in.readUTF(), new Entry(in.readLong(), in.readInt()));
                        recount();
                    }
                    default -> log.warn("unknown load-sharing message kind {} from router {}", kind, from);
                }
            }
        } catch (IOException e) {
            log.warn("undecodable load-sharing message on {}: {}", subject, e.toString());
        }
    }

    private void add(Entry e, int sign) {
        if (e == null) return;
        long[] a = remoteByWorker.computeIfAbsent(e.workerId(), k -> new long[2]);
        a[0] += sign * (long) e.tokens();
        a[1] += sign;
    }

    /** Recomputes the per-worker sums (a few hundred entries at most, far cheaper than a routing decision). */
    private void recount() {
        remoteByWorker.clear();
        for (Remote r : remotes.values()) {
            for (Entry e : r.active.values()) {
                long[] a = remoteByWorker.computeIfAbsent(e.workerId(), k -> new long[2]);
                a[0] += e.tokens();
                a[1]++;
            }
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        timer.shutdownNow();
        if (nc.getStatus() != Connection.Status.CLOSED) nc.closeDispatcher(dispatcher);
    }
}
