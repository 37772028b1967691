package ai.arbor.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP forwarder on a loopback port that a test can break. {@link #cut}: open connections are closed and new ones
 * are accepted but carry nothing (a black hole, like a network that drops packets), until the test ends.
 * {@link #stallReplies}: replies begin and then stop, the rest held back as if still on the wire, so a test can act
 * while a transfer is under way however fast it would be; what the client sees once the target dies is the
 * connection's {@link Fate}.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile int targetPort;
    private volatile boolean cut;
    private volatile Stall stall;

    private TcpProxy() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "tcp-proxy-" + server.getLocalPort());
        accept.setDaemon(true);
        accept.start();
    }

    /** Listens now; forwards once {@link #forwardTo} names the target. */
    public static TcpProxy listen() {
        try {
            return new TcpProxy();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() { return server.getLocalPort(); }

    public void forwardTo(int port) { targetPort = port; }

    /** From now on nothing passes: open connections close, new ones hang. */
    public void cut() {
        cut = true;
        for (Socket s : sockets) closeQuietly(s);
    }

    /** What a stalled connection does once the target closes its end (its process died). */
    public enum Fate {
        /** Closes the client's end too, as the kernel of a dead peer does: the client reads the end of the stream. */
        DROP,
        /**
         * Leaves the client's end open and silent, as a peer whose host vanished or a path that drops packets: only
         * the client's own deadline ends it.
         */
        SILENT
    }

    /**
     * From now on every connection passes {@code passBytes} more bytes from the target to the client, then holds back
     * whatever the target sends after them. The i-th connection to stall gets {@code fates[i]} ({@link Fate#DROP}
     * past the list). Bytes from the client to the target still pass.
     */
    public void stallReplies(long passBytes, Fate... fates) {
        stall = new Stall(passBytes, List.of(fates));
    }

    /** Waits until {@code n} connections hold back a reply; they come in the order they stalled. */
    public List<Stalled> awaitStalled(int n, Duration timeout) throws InterruptedException {
        Stall s = stall;
        if (s == null) throw new IllegalStateException("stallReplies first");
        return s.await(n, timeout);
    }

    /** One connection holding back a reply, and what became of its two ends. */
    public static final class Stalled {
        private final Fate fate;
        private final long passed;
        private final AtomicLong held = new AtomicLong();
        private final CompletableFuture<Void> targetClosed = new CompletableFuture<>();
        private final CompletableFuture<Void> clientClosed = new CompletableFuture<>();

        private Stalled(Fate fate, long passed) {
            this.fate = fate;
            this.passed = passed;
        }

        public Fate fate() { return fate; }

        /** Reply bytes that reached the client since the stall was set up. */
        public long passedBytes() { return passed; }

        /** Reply bytes held back (all the target sent after the passed ones, once it closed). */
        public long heldBytes() { return held.get(); }

        /** Completes when the target's end closed. */
        public CompletableFuture<Void> targetClosed() { return targetClosed; }

        /** Completes when the client closed its end itself (not when the proxy closed it). */
        public CompletableFuture<Void> clientClosed() { return clientClosed; }
    }

    private static final class Stall {
        final long passBytes;
        final List<Fate> fates;
        final List<Stalled> stalled = new ArrayList<>();

        Stall(long passBytes, List<Fate> fates) {
            this.passBytes = passBytes;
            this.fates = fates;
        }

        synchronized Stalled next(long passed) {
            Stalled s = new Stalled(stalled.size() < fates.size() ? fates.get(stalled.size()) : Fate.DROP, passed);
            stalled.add(s);
            notifyAll();
            return s;
        }

        synchronized List<Stalled> await(int n, Duration timeout) throws InterruptedException {
            long end = System.nanoTime() + timeout.toNanos();
            while (stalled.size() < n) {
                long left = end - System.nanoTime();
                if (left <= 0) throw new AssertionError(stalled.size() + " of " + n + " connections stalled in " + timeout);
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return List.copyOf(stalled.subList(0, n));
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                sockets.add(in);
                if (cut || targetPort == 0) continue; // held open, never answered
                Socket out = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(out);
                Link link = new Link(in, out);
                start(link::requests);
                start(link::replies);
            } catch (IOException e) {
                // the server socket closed, or the target refused: the client sees its connection drop
            }
        }
    }

    /** One client connection and the proxy's connection to the target. */
    private final class Link {
        private final Socket client;
        private final Socket target;
        private volatile Stalled stalled;
        /** Set before the proxy closes the client's end, so that the close is not taken for the client's. */
        private volatile boolean closing;

        Link(Socket client, Socket target) {
            this.client = client;
            this.target = target;
        }

        void requests() {
            byte[] buf = new byte[16384];
            boolean clientEnded = false;
            try {
                InputStream in = client.getInputStream();
                OutputStream out = target.getOutputStream();
                while (!cut) {
                    int n;
                    try {
                        n = in.read(buf);
                    } catch (IOException e) {
                        n = -1;
                    }
                    if (n < 0) {
                        clientEnded = true;
                        break;
                    }
                    out.write(buf, 0, n);
                }
            } catch (IOException e) {
                // the target's end closed
            }
            Stalled s = stalled;
            if (clientEnded && s != null && !closing) s.clientClosed.complete(null);
            close();
        }

        void replies() {
            byte[] buf = new byte[16384];
            Stall seen = null;
            long passed = 0;
            // streams left unclosed: closing one closes its socket, and a silent stall keeps the client's open
            try {
                InputStream in = target.getInputStream();
                OutputStream out = client.getOutputStream();
                for (int n; !cut && (n = in.read(buf)) >= 0; ) {
                    Stall s = stall;
                    if (stalled != null) {
                        stalled.held.addAndGet(n);
                        continue;
                    }
                    if (s == null) {
                        out.write(buf, 0, n);
                        continue;
                    }
                    if (s != seen) { // counts from the moment this stall was set up
                        seen = s;
                        passed = 0;
                    }
                    int pass = (int) Math.min(n, s.passBytes - passed);
                    if (pass > 0) {
                        out.write(buf, 0, pass);
                        out.flush();
                        passed += pass;
                    }
                    if (pass < n) {
                        Stalled held = s.next(passed);
                        held.held.addAndGet(n - pass);
                        stalled = held;
                    }
                }
            } catch (IOException e) {
                // either side closed
            }
            Stalled s = stalled;
            if (s != null) {
                s.targetClosed.complete(null);
                if (s.fate == Fate.SILENT && !cut) {
                    closeQuietly(target); // the client's end stays open until the client gives up
                    return;
                }
            }
            close();
        }

        private void close() {
            closing = true;
            closeQuietly(client);
            closeQuietly(target);
        }
    }

    private static void start(Runnable pump) {
        Thread t = new Thread(pump, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        cut();
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
