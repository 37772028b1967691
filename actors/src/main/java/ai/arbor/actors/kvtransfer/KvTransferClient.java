package ai.arbor.actors.kvtransfer;

import ai.arbor.actors.metrics.KvTransferMetrics;
import ai.arbor.gpu.kv.KvBlockBatch;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The asking end of the KV block data plane: pulls blocks from a peer's {@link KvTransferServer} or pushes blocks to
 * it, each over a connection of its own that the deadline closes. Any failure (peer gone, stream cut, deadline passed,
 * peer error) is a {@link KvTransferException}; nothing of a failed transfer reaches the engine.
 */
public final class KvTransferClient {
    private final KvTransferMetrics metrics;

    public KvTransferClient(KvTransferMetrics metrics) { this.metrics = metrics; }

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
            KvTransferWire.readStatus(ch);
            return KvTransferWire.readBatch(ch);
        });
        metrics.received(got.size(), System.nanoTime() - t0);
        return got;
    }

    /** Has the peer compute {@code prompt} and returns the blocks of its cacheable prefix. */
    public KvBlockBatch prefill(InetSocketAddress peer, int[] prompt, Duration timeout) throws KvTransferException {
        long t0 = System.nanoTime();
        KvBlockBatch got = exchange(peer, timeout, KvTransferWire.PREFILL, ch -> {
            KvTransferWire.writeTokens(ch, prompt);
            KvTransferWire.readStatus(ch);
            return KvTransferWire.readBatch(ch);
        });
        metrics.received(got.size(), System.nanoTime() - t0);
        return got;
    }

    /** Sends blocks into the peer's cache; returns how many it took in. */
    public int push(InetSocketAddress peer, KvBlockBatch blocks, Duration timeout) throws KvTransferException {
        long t0 = System.nanoTime();
        int taken = exchange(peer, timeout, KvTransferWire.PUSH, ch -> {
            KvTransferWire.writeBatch(ch, blocks);
            KvTransferWire.readStatus(ch);
            return KvTransferWire.readFully(ch, 4).getInt();
        });
        metrics.sent(blocks.size(), System.nanoTime() - t0);
        return taken;
    }

    private interface Body<T> {
        T run(SocketChannel ch) throws IOException;
    }

    private static <T> T exchange(InetSocketAddress peer, Duration timeout, byte op, Body<T> body)
            throws KvTransferException {
        long ms = Math.max(1, timeout.toMillis());
        SocketChannel ch;
        try {
            ch = SocketChannel.open();
        } catch (IOException e) {
            throw new KvTransferException("cannot open a socket: " + e.getMessage(), e);
        }
        try (ch; Deadline d = Deadline.closing(ch, ms)) {
            try {
                ch.connect(peer);
                ch.socket().setTcpNoDelay(true);
                ByteBuffer head = ByteBuffer.allocate(4 + 1 + 8).putInt(KvTransferWire.MAGIC).put(op).putLong(ms);
                KvTransferWire.writeFully(ch, head.flip());
                return body.run(ch);
            } catch (IOException e) {
                String why = d.expired() ? "missed its deadline of " + ms + " ms" : e.toString();
                throw new KvTransferException("KV transfer with " + peer + " " + why, e);
            }
        } catch (IOException e) {
            throw new KvTransferException("KV transfer with " + peer + ": " + e, e);
        }
    }
}
