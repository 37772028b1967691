package ai.arbor.actors.kvtransfer;

import ai.arbor.actors.metrics.KvTransferMetrics;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's end of the KV block data plane: a TCP listener that serves peers' pulls (blocks out of this engine) and
 * pushes (blocks into it), one request per connection, each on its own thread, since a transfer mostly waits on the
 * socket or on the engine thread's copy. A request's own timeout bounds it here too: at its deadline the connection
 * is closed, whatever it was doing.
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
    private final ServerSocketChannel listener;
    private final ExecutorService connections;
    private final Thread acceptor;
    private volatile boolean closed;

    /**
     * Listens on {@code host:port} (port 0: any free one); {@code wakeEngine} wakes the engine's loop so that a copy
     * queued between steps runs at once.
     */
    public KvTransferServer(KvBlockExchange engine, Runnable wakeEngine, KvTransferMetrics metrics, String host, int port)
            throws IOException {
        this.engine = engine;
        this.wakeEngine = wakeEngine;
        this.metrics = metrics;
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

    /** The port peers connect to. */
    public int port() { return listener.socket().getLocalPort(); }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel ch = listener.accept();
                ch.socket().setTcpNoDelay(true);
                connections.execute(() -> serve(ch));
            } catch (IOException e) {
                if (!closed) log.warn("KV transfer listener: {}", e.toString());
            }
        }
    }

    private void serve(SocketChannel ch) {
        long t0 = System.nanoTime();
        try (ch) {
            ByteBuffer head = KvTransferWire.readFully(ch, 4 + 1 + 8);
            if (head.getInt() != KvTransferWire.MAGIC) throw new IOException("not a KV transfer request");
            byte op = head.get();
            long timeoutMs = Math.min(Math.max(1, head.getLong()), MAX_TIMEOUT_MS);
            try (Deadline d = Deadline.closing(ch, timeoutMs)) {
                if (op == KvTransferWire.PULL) servePull(ch, d, t0);
                else if (op == KvTransferWire.PUSH) servePush(ch, d, t0);
                else if (op == KvTransferWire.PREFILL) servePrefill(ch, d, t0);
                else KvTransferWire.writeError(ch, "unknown KV transfer op " + op);
            }
        } catch (Exception e) {
            if (!closed) log.info("KV transfer with a peer failed: {}", e.toString());
        }
    }

    private void servePull(SocketChannel ch, Deadline d, long t0) throws Exception {
        int n = KvTransferWire.readFully(ch, 4).getInt();
        if (n < 0 || n > KvTransferWire.MAX_BLOCKS) {
            KvTransferWire.writeError(ch, "a pull of " + n + " blocks");
            return;
        }
        ByteBuffer body = KvTransferWire.readFully(ch, n * 8);
        long[] hashes = new long[n];
        for (int i = 0; i < n; i++) hashes[i] = body.getLong();
        KvBlockBatch out = onEngine(engine.exportBlocks(hashes), d);
        KvTransferWire.writeFully(ch, ByteBuffer.allocate(1).put(KvTransferWire.OK).flip());
        KvTransferWire.writeBatch(ch, out);
        metrics.sent(out.size(), System.nanoTime() - t0);
    }

    private void servePrefill(SocketChannel ch, Deadline d, long t0) throws Exception {
        int[] tokens = KvTransferWire.readTokens(ch);
        Prefill p = prefill;
        if (p == null) {
            KvTransferWire.writeError(ch, "this worker does not serve prefills");
            return;
        }
        p.run(tokens).get(d.remainingMillis(), TimeUnit.MILLISECONDS);
        KvBlockBatch out = onEngine(engine.exportBlocks(engine.prefixHashes(tokens)), d);
        KvTransferWire.writeFully(ch, ByteBuffer.allocate(1).put(KvTransferWire.OK).flip());
        KvTransferWire.writeBatch(ch, out);
        metrics.sent(out.size(), System.nanoTime() - t0);
    }

    private void servePush(SocketChannel ch, Deadline d, long t0) throws Exception {
        KvBlockBatch in = KvTransferWire.readBatch(ch);
        int taken = onEngine(engine.importBlocks(in), d);
        KvTransferWire.writeFully(ch, ByteBuffer.allocate(5).put(KvTransferWire.OK).putInt(taken).flip());
        metrics.received(taken, System.nanoTime() - t0);
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
