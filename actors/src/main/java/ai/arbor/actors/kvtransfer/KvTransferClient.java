package ai.arbor.actors.kvtransfer;

import ai.arbor.actors.metrics.KvTransferMetrics;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.gpu.kv.KvBlockBatch;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;

/**
 * The asking end of the KV block data plane: pulls blocks from a peer's {@link KvTransferServer} or pushes blocks to
 * it, over connections kept per peer ({@link KvConnectionPool}); each transfer's deadline closes its connection. Any
 * failure (peer gone, stream cut, deadline passed, peer error, a peer outside the cluster under TLS) is a
 * {@link KvTransferException} and drops the connection; nothing of a failed transfer reaches the engine. Batches this client returns hold a pooled buffer: give
 * it back with {@link #release} once its blocks were imported.
 */
public final class KvTransferClient implements AutoCloseable {
    private final KvTransferMetrics metrics;
    private final KvBufferPool buffers;
    private final KvConnectionPool connections;
    private final KvTransport transport;

    public KvTransferClient(KvTransferMetrics metrics, KvBufferPool buffers, KvSharingSettings settings,
                            KvTransport transport) {
        this.metrics = metrics;
        this.buffers = buffers;
        this.transport = transport;
        this.connections = new KvConnectionPool(settings.idleConnectionsPerPeer(),
                settings.connectionIdleTimeout().toNanos());
    }

    /** Fails a transfer; the caller computes what it could not get. */
    public static final class KvTransferException extends Exception {
        KvTransferException(String message, Throwable cause) { super(message, cause); }
    }

    /** The leading run of {@code hashes} the peer holds, with their bytes (maybe none). */
    public KvBlockBatch pull(InetSocketAddress peer, long[] hashes, Duration timeout) throws KvTransferException {
        long t0 = System.nanoTime();
        KvBlockBatch got = exchange(peer, timeout, KvTransferWire.PULL, ch -> {
            ByteBuffer req = ByteBuffer.allocate(4 + hashes.length * 8).putInt(hashes.length);
            for (long h : hashes) req.putLong(h);
            KvTransferWire.writeFully(ch, req.flip());
        }, ch -> KvTransferWire.readBatch(ch, buffers));
        metrics.received(got.size(), System.nanoTime() - t0);
        return got;
    }

    /** Has the peer compute {@code prompt} and returns the blocks of its cacheable prefix. */
    public KvBlockBatch prefill(InetSocketAddress peer, int[] prompt, Duration timeout) throws KvTransferException {
        long t0 = System.nanoTime();
        KvBlockBatch got = exchange(peer, timeout, KvTransferWire.PREFILL, ch -> KvTransferWire.writeTokens(ch, prompt),
                ch -> KvTransferWire.readBatch(ch, buffers));
        metrics.received(got.size(), System.nanoTime() - t0);
        return got;
    }

    /** Sends blocks into the peer's cache; returns how many it took in. */
    public int push(InetSocketAddress peer, KvBlockBatch blocks, Duration timeout) throws KvTransferException {
        long t0 = System.nanoTime();
        int taken = exchange(peer, timeout, KvTransferWire.PUSH, ch -> KvTransferWire.writeBatch(ch, blocks),
                ch -> KvTransferWire.readFully(ch, 4).getInt());
        metrics.sent(blocks.size(), System.nanoTime() - t0);
        return taken;
    }

    /** Gives back the buffer of a batch that {@link #pull} or {@link #prefill} returned, once nothing reads it. */
    public void release(KvBlockBatch batch) { buffers.release(batch.data()); }

    @Override
    public void close() { connections.close(); }

    private interface Send {
        void run(ByteChannel ch) throws IOException;
    }

    private interface Receive<T> {
        T run(ByteChannel ch) throws IOException;
    }

    /**
     * One request and its reply. A kept connection the peer closed while it was idle (the peer restarted, or its
     * listener timed it out first) fails before any reply byte; the request then goes once more on a new connection,
     * within the same deadline. Every op is safe to repeat: a pull or prefill reads, a push skips blocks held.
     */
    private <T> T exchange(InetSocketAddress peer, Duration timeout, byte op, Send send, Receive<T> receive)
            throws KvTransferException {
        long end = System.nanoTime() + timeout.toNanos();
        KvChannel kept = connections.take(peer);
        while (kept != null && !transport.isCurrent(kept)) { // made with certificates rotated since
            KvConnectionPool.closeQuietly(kept);
            kept = connections.take(peer);
        }
        if (kept != null) {
            try {
                return attempt(peer, kept, false, end, op, send, receive);
            } catch (StaleConnection stale) {
                // the kept connection was dead: go on with a new one
            }
        }
        KvChannel fresh;
        try {
            fresh = transport.open();
        } catch (IOException e) {
            metrics.failed(metricOp(op), KvTransferMetrics.Failure.CONNECTION);
            throw new KvTransferException("cannot open a socket: " + e.getMessage(), e);
        }
        try {
            return attempt(peer, fresh, true, end, op, send, receive);
        } catch (StaleConnection notOnAFreshOne) {
            throw new IllegalStateException(notOnAFreshOne);
        }
    }

    /** A kept connection found dead before its reply began. */
    private static final class StaleConnection extends Exception {
        StaleConnection(IOException cause) { super(cause); }
    }

    private <T> T attempt(InetSocketAddress peer, KvChannel ch, boolean fresh, long end, byte op, Send send,
                          Receive<T> receive) throws KvTransferException, StaleConnection {
        long ms = Math.max(1, (end - System.nanoTime()) / 1_000_000);
        boolean replyStarted = false;
        boolean peerError = false;
        boolean keep = false;
        Deadline d = Deadline.closing(ch, ms);
        try {
            if (fresh) ch.connect(peer);
            ByteBuffer head = ByteBuffer.allocate(4 + 1 + 8).putInt(KvTransferWire.MAGIC).put(op).putLong(ms);
            KvTransferWire.writeFully(ch, head.flip());
            send.run(ch);
            byte status = KvTransferWire.readFully(ch, 1).get();
            replyStarted = true;
            if (status != KvTransferWire.OK) {
                peerError = true;
                throw KvTransferWire.readError(ch);
            }
            T result = receive.run(ch);
            keep = true;
            return result;
        } catch (IOException e) {
            if (!fresh && !replyStarted && !d.fired()) throw new StaleConnection(e);
            metrics.failed(metricOp(op), d.fired() ? KvTransferMetrics.Failure.DEADLINE
                    : peerError ? KvTransferMetrics.Failure.PEER_ERROR : KvTransferMetrics.Failure.CONNECTION);
            String why = d.fired() ? "missed its deadline of " + ms + " ms" : e.toString();
            throw new KvTransferException("KV transfer with " + peer + " " + why, e);
        } finally {
            keep &= d.disarm();
            if (keep) connections.give(peer, ch);
            else closeQuietly(ch);
        }
    }

    private static KvTransferMetrics.Op metricOp(byte op) {
        return op == KvTransferWire.PULL ? KvTransferMetrics.Op.PULL
                : op == KvTransferWire.PREFILL ? KvTransferMetrics.Op.PREFILL : KvTransferMetrics.Op.PUSH;
    }

    private static void closeQuietly(KvChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // dropped either way
        }
    }
}
