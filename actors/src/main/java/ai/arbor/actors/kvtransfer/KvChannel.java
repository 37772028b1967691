package ai.arbor.actors.kvtransfer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ByteChannel;

/**
 * One transfer connection as a byte stream. The asking end makes it first and connects it after, so that the
 * transfer's deadline can close it while it connects (and, with TLS, shakes hands); closing it from another thread
 * fails whatever read or write is blocked on it at once.
 */
interface KvChannel extends ByteChannel {

    /** Connects to {@code peer}; with TLS, also completes the handshake and checks the peer's certificate. */
    void connect(InetSocketAddress peer) throws IOException;

    /** The peer failed the TLS handshake or the cluster check: it is not one of the cluster's nodes. */
    final class PeerRefused extends IOException {
        PeerRefused(IOException cause) { super(cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause); }
    }
}
