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
 * What token → client costs on this machine with no server at all: at the end of every step a thread writes one
 * SSE chunk (the size of the path's) to each of its share of {@code streams} loopback connections, in a tight loop,
 * and a selector thread per share reads them, as the benchmark's client does (one share per client thread). The
 * delay of each chunk, from the step's end to its read, is the least a server writing from as many threads could add
 * to a batch's tokens here; the paced part's "token → client" is measured the same way, so the two compare directly.
 */
final class DeliveryFloor {
    /** A chunk as the path sends it for one token: HTTP chunk framing around one SSE event. */
    private static final byte[] CHUNK = ("a0\r\ndata: {\"id\":\"chatcmpl-9f1c2e7a4b6d4c0e8a3f5b1d2c7e9a60\","
            + "\"object\":\"chat.completion.chunk\",\"created\":1764280000,\"model\":\"tiny-qwen2\",\"choices\":"
            + "[{\"index\":0,\"delta\":{\"content\":\" word\"}}]}\n\n\r\n").getBytes(StandardCharsets.US_ASCII);

    private DeliveryFloor() {}

    /**
     * Delays of every chunk of {@code steps} steps (the first tenth left out as warm-up), in nanoseconds. The
     * connections are split between {@code threads} writers, each stepping on the same schedule, and as many
     * readers (as the benchmark's client threads are).
     */
    static Samples run(int streams, long stepNanos, int steps, int threads) throws Exception {
        int warmUp = steps / 10;
        Samples delays = new Samples();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<SocketChannel> all = new ArrayList<>();
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            List<List<SocketChannel>> writers = new ArrayList<>();
            List<Selector> readers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                writers.add(new ArrayList<>());
                readers.add(Selector.open());
            }
            for (int i = 0; i < streams; i++) {
                SocketChannel r = SocketChannel.open(server.getLocalAddress());
                r.setOption(StandardSocketOptions.TCP_NODELAY, true);
                r.configureBlocking(false);
                r.register(readers.get(i % threads), SelectionKey.OP_READ, new long[1]); // bytes read from it so far
                SocketChannel w = server.accept();
                w.setOption(StandardSocketOptions.TCP_NODELAY, true);
                writers.get(i % threads).add(w);
                all.add(r);
                all.add(w);
            }
            // a connection's k-th chunk is step k's, written by its writer; timed when its last byte arrived
            AtomicLongArray[] stepEnd = new AtomicLongArray[threads];
            List<Thread> running = new ArrayList<>();
            long first = System.nanoTime() + stepNanos;
            for (int t = 0; t < threads; t++) {
                int me = t;
                stepEnd[t] = new AtomicLongArray(steps);
                long expected = (long) writers.get(t).size() * steps * CHUNK.length;
                Samples mine = new Samples();
                running.add(start("delivery-floor-reader-" + t, failure, () -> {
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16);
                    Selector selector = readers.get(me);
                    for (long bytes = 0; bytes < expected; ) {
                        selector.select();
                        for (SelectionKey key : selector.selectedKeys()) {
                            buf.clear();
                            int n = ((SocketChannel) key.channel()).read(buf);
                            long at = System.nanoTime();
                            if (n < 0) throw new IOException("connection closed");
                            long[] read = (long[]) key.attachment();
                            for (long end = (read[0] / CHUNK.length + 1) * CHUNK.length; end <= read[0] + n;
                                 end += CHUNK.length) {
                                int step = (int) (end / CHUNK.length - 1);
                                if (step >= warmUp) mine.add(at - stepEnd[me].get(step));
                            }
                            read[0] += n;
                            bytes += n;
                        }
                        selector.selectedKeys().clear();
                    }
                    synchronized (delays) {
                        mine.addTo(delays);
                    }
                }));
                running.add(start("delivery-floor-writer-" + t, failure, () -> {
                    long next = first;
                    for (int s = 0; s < steps; s++) {
                        for (long left; (left = next - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
                        stepEnd[me].set(s, System.nanoTime());
                        for (SocketChannel w : writers.get(me)) w.write(ByteBuffer.wrap(CHUNK));
                        next += stepNanos;
                    }
                }));
            }
            for (Thread th : running) th.join(stepNanos / 1_000_000 * steps + 10_000);
            for (Selector sel : readers) sel.close();
        } finally {
            for (SocketChannel c : all) c.close();
        }
        if (failure.get() != null) throw new IllegalStateException("the floor's threads failed", failure.get());
        return delays;
    }

    private static Thread start(String name, AtomicReference<Throwable> failure, ThrowingRunnable body) {
        Thread th = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, name);
        th.setDaemon(true);
        th.start();
        return th;
    }
}
