package ai.arbor.actors.kvtransfer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A transfer connection in the clear: a blocking socket channel, bytes straight between it and the buffers. */
final class PlainKvChannel implements KvChannel {
    private final SocketChannel ch;

    PlainKvChannel(SocketChannel ch) { this.ch = ch; }

    static PlainKvChannel open() throws IOException { return new PlainKvChannel(SocketChannel.open()); }

    @Override
    public void connect(InetSocketAddress peer) throws IOException {
        ch.connect(peer);
        ch.socket().setTcpNoDelay(true);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException { return ch.read(dst); }

    @Override
    public int write(ByteBuffer src) throws IOException { return ch.write(src); }

    @Override
    public boolean isOpen() { return ch.isOpen(); }

    @Override
    public void close() throws IOException { ch.close(); }
}
