package ai.arbor.actors.kvtransfer;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;

/**
 * How a worker's transfer connections are made: in the clear, or under mutual TLS with the same key, certificate and
 * CA as Pekko remoting (a node's cluster certificate), so that only the cluster's own nodes can read or plant KV blocks
 * when remoting is locked down. Both ends of a data plane must agree: a plain client's bytes fail a TLS listener's
 * handshake, and a TLS client's fail a plain listener's magic check, so either transfer fails and is recomputed.
 */
public final class KvTransport {
    private final SSLContext tls;

    private KvTransport(SSLContext tls) { this.tls = tls; }

    public static KvTransport plain() { return new KvTransport(null); }

    /**
     * Mutual TLS: {@code context} holds this node's key and certificate and trusts the cluster's CA only. Peers must
     * present a certificate from that CA which shares a subject name with this node's ({@link KvPeerCheck}).
     */
    public static KvTransport mutualTls(SSLContext context) { return new KvTransport(context); }

    public boolean usesTls() { return tls != null; }

    /** A connection to make, not connected yet. */
    KvChannel open() throws IOException { return tls == null ? PlainKvChannel.open() : TlsKvChannel.client(tls); }

    /** The listening end of an accepted connection; with TLS, the handshake runs with its first read. */
    KvChannel accepted(SocketChannel ch) throws IOException {
        ch.socket().setTcpNoDelay(true);
        return tls == null ? new PlainKvChannel(ch) : TlsKvChannel.server(tls, ch.socket());
    }

    @Override
    public String toString() { return tls == null ? "plain TCP" : "mutual TLS"; }
}
