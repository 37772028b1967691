package ai.arbor.actors.kvtransfer;

import ai.arbor.gpu.kv.KvBlockBatch;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The block data plane's frames on one TCP stream (big-endian headers; block bytes raw, as the backend copier wrote
 * them):
 * <pre>
 *   request:  i32 magic "ARKV" | u8 op | i64 timeout ms | body
 *     PULL body: i32 n | n x i64 block hash
 *     PUSH body: batch
 *     PREFILL body: i32 n | n x i32 prompt token (the peer computes the prompt, then replies as to a PULL of its
 *                   full blocks)
 *   reply:    u8 status (0 ok, 1 error) | ok: PULL batch, PUSH i32 blocks taken in | error: i32 length | UTF-8 message
 *   batch:    i32 n | i32 block size | i32 block bytes | u8 has parent [i64 parent] | n x i64 hash
 *             | n * block size x i32 token | n * block bytes of data
 * </pre>
 * The data goes straight between the socket and the buffer the engine filled or will read, with no copy in between.
 * A connection carries any number of request/reply pairs, one after the other.
 */
final class KvTransferWire {
    static final int MAGIC = 0x41524b56; // "ARKV"
    static final byte PULL = 1, PUSH = 2, PREFILL = 3;
    static final byte OK = 0, ERROR = 1;
    /** No transfer asks for more blocks than this in one frame (a bound on what a header may make us allocate). */
    static final int MAX_BLOCKS = 1 << 20;
    /** One batch's data fits one buffer. */
    static final long MAX_DATA_BYTES = Integer.MAX_VALUE;

    private KvTransferWire() {}

    static void writeBatch(ByteChannel ch, KvBlockBatch b) throws IOException {
        int n = b.size();
        ByteBuffer head = ByteBuffer.allocate(4 * 3 + 1 + 8 + n * 8 + b.tokens().length * 4);
        head.putInt(n).putInt(b.blockSize()).putInt(b.blockBytes());
        head.put((byte) (b.parentHash() == null ? 0 : 1)).putLong(b.parentHash() == null ? 0 : b.parentHash());
        for (long h : b.hashes()) head.putLong(h);
        for (int t : b.tokens()) head.putInt(t);
        head.flip();
        writeFully(ch, head);
        writeFully(ch, b.data().duplicate());
    }

    /** Reads a batch whose data lands in a buffer from {@code buffers} (given back there if the read fails). */
    static KvBlockBatch readBatch(ByteChannel ch, KvBufferPool buffers) throws IOException {
        ByteBuffer fixed = readFully(ch, 4 * 3 + 1 + 8);
        int n = fixed.getInt();
        int blockSize = fixed.getInt();
        int blockBytes = fixed.getInt();
        boolean hasParent = fixed.get() != 0;
        long parent = fixed.getLong();
        if (n < 0 || n > MAX_BLOCKS || blockSize <= 0 || blockSize > 1 << 16 || blockBytes < 0
                || (long) n * blockBytes > MAX_DATA_BYTES) {
            throw new IOException("bad KV block batch header: " + n + " blocks of " + blockSize + " tokens / "
                    + blockBytes + " bytes");
        }
        ByteBuffer meta = readFully(ch, n * 8 + n * blockSize * 4);
        long[] hashes = new long[n];
        for (int i = 0; i < n; i++) hashes[i] = meta.getLong();
        int[] tokens = new int[n * blockSize];
        for (int i = 0; i < tokens.length; i++) tokens[i] = meta.getInt();
        ByteBuffer data = buffers.acquire(n * blockBytes);
        try {
            readInto(ch, data);
        } catch (IOException | RuntimeException e) {
            buffers.release(data);
            throw e;
        }
        data.flip();
        return new KvBlockBatch(hasParent ? parent : null, hashes, tokens, blockSize, blockBytes, data);
    }

    static int[] readTokens(ByteChannel ch) throws IOException {
        int n = readFully(ch, 4).getInt();
        if (n <= 0 || n > MAX_BLOCKS) throw new IOException("a prompt of " + n + " tokens");
        ByteBuffer b = readFully(ch, n * 4);
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) tokens[i] = b.getInt();
        return tokens;
    }

    static void writeTokens(ByteChannel ch, int[] tokens) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + tokens.length * 4).putInt(tokens.length);
        for (int t : tokens) b.putInt(t);
        writeFully(ch, b.flip());
    }

    static void writeError(ByteChannel ch, String message) throws IOException {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + m.length).put(ERROR).putInt(m.length).put(m);
        writeFully(ch, b.flip());
    }

    /** The rest of an error reply (after its status byte), as the exception to throw. */
    static IOException readError(ByteChannel ch) throws IOException {
        int len = readFully(ch, 4).getInt();
        if (len < 0 || len > 1 << 16) return new IOException("peer failed with a malformed error reply");
        byte[] m = new byte[len];
        readFully(ch, len).get(m);
        return new IOException("peer failed: " + new String(m, StandardCharsets.UTF_8));
    }

    static ByteBuffer readFully(ByteChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readInto(ch, b);
        return b.flip();
    }

    static void readInto(ByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new EOFException("peer closed the stream with " + b.remaining() + " bytes to go");
        }
    }

    static void writeFully(ByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
