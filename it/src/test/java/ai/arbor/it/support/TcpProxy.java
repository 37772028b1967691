package ai.arbor.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder on a loopback port that a test can cut: after {@link #cut}, open connections are closed and new ones
 * are accepted but carry nothing (a black hole, like a network that drops packets), until the test ends.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile int targetPort;
    private volatile boolean cut;

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

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                sockets.add(in);
                if (cut || targetPort == 0) continue; // held open, never answered
                Socket out = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(out);
                pump(in, out);
                pump(out, in);
            } catch (IOException e) {
                // the server socket closed, or the target refused: the client sees its connection drop
            }
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; !cut && (n = in.read(buf)) >= 0; ) out.write(buf, 0, n);
            } catch (IOException e) {
                // either side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "tcp-proxy-pump");
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
