package ai.arbor.actors.kvtransfer;

import ai.arbor.actors.metrics.KvTransferMetrics;
import ai.arbor.config.KvSharingSettings;
import ai.arbor.gpu.kv.KvBlockBatch;
import ai.arbor.gpu.kv.KvBlockExchange;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's end of the KV block data plane: a TCP listener that serves peers' pulls (blocks out of this engine) and
 * pushes (blocks into it), each connection on its own thread, since a transfer mostly waits on the socket or on the
 * engine thread's copy. A connection serves requests one after another until the peer closes it, an error leaves its
 * stream at no frame boundary, or it stays idle for twice the client's idle timeout. A request's own timeout bounds it
 * here too: at its deadline the connection is closed, whatever it was doing. Block bytes go through pooled buffers.
 * Under mutual TLS ({@link KvTransport}) a connection whose peer fails the handshake or the cluster check is closed
 * before a single request is read.
 */
public final class KvTransferServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KvTransferServer.class);
    /** The longest a peer may ask a transfer to take. */
    static final long MAX_TIMEOUT_MS = 60_000;

    /** Computes a prompt in this worker's engine (a one-token request); completes when its blocks are cached. */
    @FunctionalInterface
    public interface Prefill {
        CompletableFuture<?> run(int[] promptTokens);
    }

    private final KvBlockExchange engine;
    private final Runnable wakeEngine;
    private volatile Prefill prefill;
    private final KvTransferMetrics metrics;
    private final KvBufferPool buffers;
    private final long idleTimeoutMs;
    private final KvTransport transport;
    private final ServerSocketChannel listener;
    private final ExecutorService connections;
    private final Thread acceptor;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean closed;

    /**
     * Listens on {@code host:port} (port 0: any free one); {@code wakeEngine} wakes the engine's loop so that a copy
     * queued between steps runs at once.
     */
    public KvTransferServer(KvBlockExchange engine, Runnable wakeEngine, KvTransferMetrics metrics, KvBufferPool buffers,
                            KvSharingSettings settings, KvTransport transport, String host, int port) throws IOException {
        this.transport = transport;
        this.engine = engine;
        this.wakeEngine = wakeEngine;
        this.metrics = metrics;
        this.buffers = buffers;
        this.idleTimeoutMs = 2 * settings.connectionIdleTimeout().toMillis();
        this.listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress(host, port));
        this.connections = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "kv-transfer-serve");
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::accept, "kv-transfer-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Makes this worker serve remote prefills (prefill workers; null: refuse them). */
    public KvTransferServer prefillWith(Prefill p) {
        this.prefill = p;
        return this;
    }

    /** Connections accepted so far. */
    int connectionsAccepted() { return accepted.get(); }

    /** Connections open now. */
    int connectionsOpen() { return open.get(); }

    /** The port peers connect to. */
    public int port() { return listener.socket().getLocalPort(); }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel ch = listener.accept();
                accepted.incrementAndGet();
                open.incrementAndGet();
                connections.execute(() -> serve(ch));
            } catch (IOException e) {
                if (!closed) log.warn("KV transfer listener: {}", e.toString());
            }
        }
    }

    private void serve(SocketChannel socket) {
        try (socket; KvChannel ch = transport.accepted(socket)) {
            while (!closed) {
                ByteBuffer head = ByteBuffer.allocate(4 + 1 + 8);
                try (Deadline idle = Deadline.closing(ch, idleTimeoutMs)) {
                    if (!readHead(ch, head)) return; // the peer closed the connection between requests
                } catch (KvChannel.PeerRefused e) {
                    log.warn("refused a KV transfer connection from {}: {}", socket.socket().getRemoteSocketAddress(),
                            e.getMessage());
                    return;
                } catch (IOException e) {
                    return; // idle too long, or cut between requests: nothing was under way
                }
                long t0 = System.nanoTime();
                if (head.getInt() != KvTransferWire.MAGIC) throw new IOException("not a KV transfer request");
                byte op = head.get();
                long timeoutMs = Math.min(Math.max(1, head.getLong()), MAX_TIMEOUT_MS);
                Deadline d = Deadline.closing(ch, timeoutMs);
                boolean atBoundary = false;
                try {
                    atBoundary = serveOne(ch, op, d, t0);
                } finally {
                    atBoundary &= d.disarm();
                }
                if (!atBoundary) return;
            }
        } catch (Exception e) {
            if (!closed) log.info("KV transfer with a peer failed: {}", e.toString());
        } finally {
            open.decrementAndGet();
        }
    }

    /** The next request's header; false when the peer closed the stream before its first byte. */
    private static boolean readHead(KvChannel ch, ByteBuffer head) throws IOException {
        if (ch.read(head) < 0) return false;
        KvTransferWire.readInto(ch, head);
        head.flip();
        return true;
    }

    /** Serves one request; true when it ended with an OK reply, so the stream is at a frame boundary. */
    private boolean serveOne(KvChannel ch, byte op, Deadline d, long t0) throws Exception {
        if (op == KvTransferWire.PULL) return servePull(ch, d, t0);
        if (op == KvTransferWire.PUSH) return servePush(ch, d, t0);
        if (op == KvTransferWire.PREFILL) return servePrefill(ch, d, t0);
        KvTransferWire.writeError(ch, "unknown KV transfer op " + op);
        return false;
    }

    private boolean servePull(KvChannel ch, Deadline d, long t0) throws Exception {
        int n = KvTransferWire.readFully(ch, 4).getInt();
        if (n < 0 || n > KvTransferWire.MAX_BLOCKS) {
            KvTransferWire.writeError(ch, "a pull of " + n + " blocks");
            return false;
        }
        ByteBuffer body = KvTransferWire.readFully(ch, n * 8);
        long[] hashes = new long[n];
        for (int i = 0; i < n; i++) hashes[i] = body.getLong();
        sendBlocks(ch, hashes, d, t0);
        return true;
    }

    private boolean servePrefill(KvChannel ch, Deadline d, long t0) throws Exception {
        int[] tokens = KvTransferWire.readTokens(ch);
        Prefill p = prefill;
        if (p == null) {
            KvTransferWire.writeError(ch, "this worker does not serve prefills");
            return false;
        }
        p.run(tokens).get(d.remainingMillis(), TimeUnit.MILLISECONDS);
        sendBlocks(ch, engine.prefixHashes(tokens), d, t0);
        return true;
    }

    /** Exports the held run of {@code hashes} into a pooled buffer and sends it, the buffer going back afterwards. */
    private void sendBlocks(KvChannel ch, long[] hashes, Deadline d, long t0) throws Exception {
        CompletableFuture<KvBlockBatch> export = engine.exportBlocks(hashes, buffers::acquire);
        try {
            KvBlockBatch out = onEngine(export, d);
            KvTransferWire.writeFully(ch, ByteBuffer.allocate(1).put(KvTransferWire.OK).flip());
            KvTransferWire.writeBatch(ch, out);
            metrics.sent(out.size(), System.nanoTime() - t0);
        } finally {
            // now, or when the engine thread gets to an export this transfer gave up waiting for
            export.thenAccept(b -> buffers.release(b.data()));
        }
    }

    private boolean servePush(KvChannel ch, Deadline d, long t0) throws Exception {
        KvBlockBatch in = KvTransferWire.readBatch(ch, buffers);
        CompletableFuture<Integer> imported = engine.importBlocks(in);
        try {
            int taken = onEngine(imported, d);
            KvTransferWire.writeFully(ch, ByteBuffer.allocate(5).put(KvTransferWire.OK).putInt(taken).flip());
            metrics.received(taken, System.nanoTime() - t0);
            return true;
        } finally {
            imported.whenComplete((n, e) -> buffers.release(in.data()));
        }
    }

    private <T> T onEngine(CompletableFuture<T> f, Deadline d) throws Exception {
        wakeEngine.run();
        return f.get(d.remainingMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            log.debug("closing the KV transfer listener", e);
        }
        connections.shutdownNow();
    }
}
