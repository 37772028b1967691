package ai.arbor.actors.kvtransfer;

import ai.arbor.config.PemTls;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * How a worker's transfer connections are made: in the clear, or under mutual TLS with the same key, certificate and
 * CA as Pekko remoting (a node's cluster certificate), so that only the cluster's own nodes can read or plant KV blocks
 * when remoting is locked down. Both ends of a data plane must agree: a plain client's bytes fail a TLS listener's
 * handshake, and a TLS client's fail a plain listener's magic check, so either transfer fails and is recomputed.
 *
 * <p>Under TLS every new connection, made or accepted, takes the newest context: from {@link PemTls}, which re-reads
 * the PEM files when they change, so rotated certificates (a renewed Kubernetes Secret) take effect without a restart,
 * as remoting's rotating-keys provider does. A kept connection made under an older context is dropped rather than
 * reused ({@link #isCurrent}), so the next transfer after a rotation shakes hands with the new files.
 */
public final class KvTransport {
    private final Supplier<SSLContext> tls;

    private KvTransport(Supplier<SSLContext> tls) { this.tls = tls; }

    public static KvTransport plain() { return new KvTransport(null); }

    /**
     * Mutual TLS: {@code files} hold this node's key and certificate and the cluster's CA, the only one trusted. Peers
     * must present a certificate from that CA which shares a subject name with this node's ({@link KvPeerCheck}).
     */
    public static KvTransport mutualTls(PemTls files) { return new KvTransport(files::current); }

    /** As {@link #mutualTls(PemTls)} with one fixed context. */
    public static KvTransport mutualTls(SSLContext context) { return new KvTransport(() -> context); }

    /** Mutual TLS with whatever context {@code contexts} gives at each new connection. */
    static KvTransport mutualTls(Supplier<SSLContext> contexts) { return new KvTransport(contexts); }

    public boolean usesTls() { return tls != null; }

    /** A connection to make, not connected yet. */
    KvChannel open() throws IOException { return tls == null ? PlainKvChannel.open() : TlsKvChannel.client(tls.get()); }

    /** The listening end of an accepted connection; with TLS, the handshake runs with its first read. */
    KvChannel accepted(SocketChannel ch) throws IOException {
        ch.socket().setTcpNoDelay(true);
        return tls == null ? new PlainKvChannel(ch) : TlsKvChannel.server(tls.get(), ch.socket());
    }

    /** False for a connection made with a context the PEM files have since replaced: it is not to be reused. */
    boolean isCurrent(KvChannel ch) {
        return tls == null || !(ch instanceof TlsKvChannel t) || t.madeWith(tls.get());
    }

    @Override
    public String toString() { return tls == null ? "plain TCP" : "mutual TLS"; }
}
