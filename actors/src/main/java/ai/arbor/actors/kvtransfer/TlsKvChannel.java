package ai.arbor.actors.kvtransfer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A transfer connection under mutual TLS: a JSSE socket layered over a plain TCP socket. Bytes pass through a staging
 * array (JSSE's streams take arrays), one more copy beside the encryption. {@link #close} closes the TCP socket under
 * the TLS one: that fails a read or write blocked on it at once, where closing the TLS socket would first wait to send
 * close_notify behind a blocked write. A transfer's framing says where its data ends, so no close_notify is needed.
 */
final class TlsKvChannel implements KvChannel {
    private static final int STAGING_BYTES = 64 << 10;

    private final SSLContext context;
    private final Socket raw;
    private final boolean server;
    private SSLSocket tls;
    private InputStream in;
    private OutputStream out;
    private final byte[] staging = new byte[STAGING_BYTES];

    private TlsKvChannel(SSLContext context, Socket raw, boolean server) {
        this.context = context;
        this.raw = raw;
        this.server = server;
    }

    /** The asking end: not connected yet. */
    static TlsKvChannel client(SSLContext context) { return new TlsKvChannel(context, new Socket(), false); }

    /** The listening end, over an accepted connection; the handshake runs with the first read. */
    static TlsKvChannel server(SSLContext context, Socket accepted) throws IOException {
        TlsKvChannel c = new TlsKvChannel(context, accepted, true);
        c.tls = (SSLSocket) context.getSocketFactory().createSocket(accepted, null, true);
        c.tls.setUseClientMode(false);
        c.tls.setNeedClientAuth(true);
        return c;
    }

    @Override
    public void connect(InetSocketAddress peer) throws IOException {
        raw.connect(peer);
        raw.setTcpNoDelay(true);
        tls = (SSLSocket) context.getSocketFactory().createSocket(raw, peer.getHostString(), peer.getPort(), true);
        tls.setUseClientMode(true);
        handshake();
    }

    private void handshake() throws IOException {
        try {
            tls.startHandshake();
            KvPeerCheck.sameCluster(tls.getSession());
        } catch (IOException e) {
            throw raw.isClosed() ? e : new PeerRefused(e); // closed: the deadline, not the peer, ended it
        }
        in = tls.getInputStream();
        out = tls.getOutputStream();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (in == null) {
            if (!server) throw new IOException("not connected");
            handshake();
        }
        if (dst.hasArray()) {
            int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) dst.position(dst.position() + n);
            return n;
        }
        int n = in.read(staging, 0, Math.min(staging.length, dst.remaining()));
        if (n > 0) dst.put(staging, 0, n);
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (out == null) throw new IOException("no TLS session yet");
        int n;
        if (src.hasArray()) {
            n = src.remaining();
            out.write(src.array(), src.arrayOffset() + src.position(), n);
            src.position(src.position() + n);
        } else {
            n = Math.min(staging.length, src.remaining());
            src.get(staging, 0, n);
            out.write(staging, 0, n);
        }
        return n;
    }

    /** True when this connection was made with {@code context}. */
    boolean madeWith(SSLContext context) { return this.context == context; }

    @Override
    public boolean isOpen() { return !raw.isClosed(); }

    @Override
    public void close() throws IOException { raw.close(); }
}
