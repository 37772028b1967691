package ai.arbor.cluster.serve.overhead;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * What token → client costs on this machine with no server at all: at the end of every step one thread writes one
 * SSE chunk (the size of the path's) to each of {@code streams} loopback connections, in a tight loop, and one
 * selector thread reads them, as the benchmark's client does. The delay of each chunk, from the step's end to its
 * read, is the least any HTTP server could add to a batch's tokens here; the paced part's "token → client" is
 * measured the same way, so the two compare directly.
 */
final class DeliveryFloor {
    /** A chunk as the path sends it for one token: HTTP chunk framing around one SSE event. */
    private static final byte[] CHUNK = ("a0\r\ndata: {\"id\":\"chatcmpl-9f1c2e7a4b6d4c0e8a3f5b1d2c7e9a60\","
            + "\"object\":\"chat.completion.chunk\",\"created\":1764280000,\"model\":\"tiny-qwen2\",\"choices\":"
            + "[{\"index\":0,\"delta\":{\"content\":\" word\"}}]}\n\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private DeliveryFloor() {}

    /** Delays of every chunk of {@code steps} steps (the first tenth left out as warm-up), in nanoseconds. */
    static Samples run(int streams, long stepNanos, int steps) throws Exception {
        int warmUp = steps / 10;
        Samples delays = new Samples();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (ServerSocketChannel server = ServerSocketChannel.open(); Selector selector = Selector.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            List<SocketChannel> writers = new ArrayList<>();
            List<SocketChannel> readers = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                SocketChannel r = SocketChannel.open(server.getLocalAddress());
                r.setOption(StandardSocketOptions.TCP_NODELAY, true);
                r.configureBlocking(false);
                r.register(selector, SelectionKey.OP_READ, new long[1]); // bytes read from it so far
                readers.add(r);
                SocketChannel w = server.accept();
                w.setOption(StandardSocketOptions.TCP_NODELAY, true);
                writers.add(w);
            }
            AtomicLongArray stepEnd = new AtomicLongArray(steps);
            long expected = (long) streams * steps * CHUNK.length;
            Thread reader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16);
                long bytes = 0;
                try {
                    while (bytes < expected) {
                        selector.select();
                        for (SelectionKey key : selector.selectedKeys()) {
                            buf.clear();
                            int n = ((SocketChannel) key.channel()).read(buf);
                            long at = System.nanoTime();
                            if (n < 0) throw new IOException("connection closed");
                            // a connection's k-th chunk is step k's; timed when its last byte arrived
                            long[] read = (long[]) key.attachment();
                            for (long end = (read[0] / CHUNK.length + 1) * CHUNK.length; end <= read[0] + n;
                                 end += CHUNK.length) {
                                int step = (int) (end / CHUNK.length - 1);
                                if (step >= warmUp) delays.add(at - stepEnd.get(step));
                            }
                            read[0] += n;
                            bytes += n;
                        }
                        selector.selectedKeys().clear();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "delivery-floor-reader");
            reader.setDaemon(true);
            reader.start();
            long next = System.nanoTime() + stepNanos;
            for (int s = 0; s < steps; s++) {
                for (long left; (left = next - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
                stepEnd.set(s, System.nanoTime());
                for (SocketChannel w : writers) w.write(ByteBuffer.wrap(CHUNK));
                next += stepNanos;
            }
            reader.join(10_000);
            for (SocketChannel c : readers) c.close();
            for (SocketChannel c : writers) c.close();
        }
        if (failure.get() != null) throw new IllegalStateException("the floor's reader failed", failure.get());
        return delays;
    }
}
