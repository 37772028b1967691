package ai.arbor.actors.kvevents;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The compact binary form of a {@link KvEventBatch} (big-endian):
 * <pre>
 *   u8 version=2 | i64 worker id | i32 count | count × event
 *   event: u8 kind | i64 event id | kind-specific body
 *     1 stored:  u8 has-parent [i64 parent] | i32 block size | i32 n | n × i64 block hash | n × i64 local hash
 *     2 removed: i32 n | n × i64 block hash
 *     3 cleared: (nothing)
 * </pre>
 * Version 1 carried each block's token ids, which gave every subscriber the prompts; it is refused.
 */
public final class KvEventCodec {
    private static final int VERSION = 2;
    private static final int STORED = 1, REMOVED = 2, CLEARED = 3;

    private KvEventCodec() {}

    public static byte[] encode(KvEventBatch batch) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 32 * batch.events().size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeLong(batch.workerId());
            out.writeInt(batch.events().size());
            for (BlockEvent e : batch.events()) {
                if (e instanceof BlockEvent.Stored s) {
                    out.writeByte(STORED);
                    out.writeLong(s.eventId());
                    out.writeBoolean(s.parentBlockHash() != null);
                    if (s.parentBlockHash() != null) out.writeLong(s.parentBlockHash());
                    out.writeInt(s.blockSize());
                    out.writeInt(s.blockHashes().length);
                    if (s.localHashes().length != s.blockHashes().length) {
                        throw new IllegalArgumentException("event " + s.eventId() + ": " + s.blockHashes().length
                                + " block hashes but " + s.localHashes().length + " local hashes");
                    }
                    for (long h : s.blockHashes()) out.writeLong(h);
                    for (long h : s.localHashes()) out.writeLong(h);
                } else if (e instanceof BlockEvent.Removed r) {
                    out.writeByte(REMOVED);
                    out.writeLong(r.eventId());
                    out.writeInt(r.blockHashes().length);
                    for (long h : r.blockHashes()) out.writeLong(h);
                } else {
                    out.writeByte(CLEARED);
                    out.writeLong(e.eventId());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Decodes {@link #encode} output; anything else throws IllegalArgumentException saying what was wrong. */
    public static KvEventBatch decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) throw new IllegalArgumentException("KV event batch version " + version + ", expected " + VERSION);
            long worker = in.readLong();
            int count = checkedCount(in.readInt(), data.length, "events");
            List<BlockEvent> events = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int kind = in.readUnsignedByte();
                long id = in.readLong();
                switch (kind) {
                    case STORED -> {
                        Long parent = in.readBoolean() ? in.readLong() : null;
                        int blockSize = in.readInt();
                        int n = checkedCount(in.readInt(), data.length, "blocks");
                        if (blockSize <= 0) throw new IllegalArgumentException("stored event " + id + ": bad block size " + blockSize);
                        long[] hashes = new long[n];
                        for (int b = 0; b < n; b++) hashes[b] = in.readLong();
                        long[] locals = new long[n];
                        for (int b = 0; b < n; b++) locals[b] = in.readLong();
                        events.add(new BlockEvent.Stored(id, parent, hashes, locals, blockSize));
                    }
                    case REMOVED -> {
                        int n = checkedCount(in.readInt(), data.length, "blocks");
                        long[] hashes = new long[n];
                        for (int b = 0; b < n; b++) hashes[b] = in.readLong();
                        events.add(new BlockEvent.Removed(id, hashes));
                    }
                    case CLEARED -> events.add(new BlockEvent.Cleared(id));
                    default -> throw new IllegalArgumentException("unknown KV event kind " + kind + " in event " + id);
                }
            }
            if (in.available() > 0) throw new IllegalArgumentException("KV event batch has " + in.available() + " trailing bytes");
            return new KvEventBatch(worker, events);
        } catch (IOException e) {
            throw new IllegalArgumentException("KV event batch is truncated (" + data.length + " bytes)", e);
        }
    }

    private static int checkedCount(int n, int totalBytes, String what) {
        if (n < 0 || n > totalBytes) throw new IllegalArgumentException("KV event batch claims " + n + " " + what + " in " + totalBytes + " bytes");
        return n;
    }
}
