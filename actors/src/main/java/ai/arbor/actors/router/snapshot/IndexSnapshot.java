package ai.arbor.actors.router.snapshot;

import java.nio.ByteBuffer;

/** A {@code RadixIndex} snapshot and the bus position of the last event in it: replay resumes right after. */
public record IndexSnapshot(long sequence, byte[] index) {
    public byte[] toBytes() {
        return ByteBuffer.allocate(8 + index.length).putLong(sequence).put(index).array();
    }

    public static IndexSnapshot fromBytes(byte[] bytes) {
        if (bytes.length < 8) throw new IllegalArgumentException("router snapshot of " + bytes.length + " bytes is too short");
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long seq = b.getLong();
        byte[] index = new byte[bytes.length - 8];
        b.get(index);
        return new IndexSnapshot(seq, index);
    }
}
