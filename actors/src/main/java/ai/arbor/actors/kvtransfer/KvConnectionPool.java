package ai.arbor.actors.kvtransfer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Transfer connections kept open between transfers, a few per peer: a connection (and, with TLS, its handshake) per
 * transfer cost more than a small transfer's bytes. A connection is kept only after a transfer that ended well, so its
 * stream is at a frame boundary; one kept longer than the idle timeout is closed rather than reused, before the
 * listener (which waits twice as long) closes its end.
 */
final class KvConnectionPool implements AutoCloseable {
    private record Idle(KvChannel channel, long since) {}

    private final int maxPerPeer;
    private final long idleNanos;
    private final ConcurrentHashMap<InetSocketAddress, ArrayDeque<Idle>> idle = new ConcurrentHashMap<>();
    private volatile boolean closed;

    KvConnectionPool(int maxPerPeer, long idleNanos) {
        this.maxPerPeer = maxPerPeer;
        this.idleNanos = idleNanos;
    }

    /** An open kept connection to {@code peer}, most recently used first, or null. */
    KvChannel take(InetSocketAddress peer) {
        ArrayDeque<Idle> q = idle.get(peer);
        if (q == null) return null;
        long now = System.nanoTime();
        while (true) {
            Idle i;
            synchronized (q) {
                i = q.pollFirst();
            }
            if (i == null) return null;
            if (i.channel().isOpen() && now - i.since() < idleNanos) return i.channel();
            closeQuietly(i.channel());
        }
    }

    /** Keeps {@code ch} for the next transfer to {@code peer}, or closes it when the peer has enough kept. */
    void give(InetSocketAddress peer, KvChannel ch) {
        if (!closed && maxPerPeer > 0) {
            ArrayDeque<Idle> q = idle.computeIfAbsent(peer, p -> new ArrayDeque<>());
            synchronized (q) {
                if (q.size() < maxPerPeer) {
                    q.offerFirst(new Idle(ch, System.nanoTime()));
                    ch = null;
                }
            }
        }
        if (ch != null) closeQuietly(ch);
        if (closed) close(); // raced with close: nothing may stay open
    }

    /** Connections kept for {@code peer} now. */
    int kept(InetSocketAddress peer) {
        ArrayDeque<Idle> q = idle.get(peer);
        if (q == null) return 0;
        synchronized (q) {
            return q.size();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (ArrayDeque<Idle> q : idle.values()) {
            synchronized (q) {
                for (Idle i; (i = q.pollFirst()) != null; ) closeQuietly(i.channel());
            }
        }
    }

    static void closeQuietly(KvChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // the connection is dropped either way
        }
    }
}
