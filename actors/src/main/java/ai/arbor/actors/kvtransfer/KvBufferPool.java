package ai.arbor.actors.kvtransfer;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers for transfers' block bytes, kept between transfers: a fresh {@code allocateDirect} of tens of MiB is
 * zeroed and then page-faulted in on first touch, which cost more than the copy itself on the loopback benchmark.
 * Buffers come in power-of-two sizes (from 64 KiB), so one size class serves every transfer up to it; at most
 * {@code maxPooledBytes} are kept idle, the rest are left to the GC. Thread-safe: the engine thread takes buffers for
 * exports, transfer threads for reads, and whoever ends a batch's use gives its buffer back, exactly once.
 */
public final class KvBufferPool {
    private static final int MIN_CLASS = 16; // 64 KiB
    private static final int MAX_CLASS = 30; // 1 GiB: the largest power of two a ByteBuffer can hold
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

    private final long maxPooledBytes;
    private final AtomicLong pooledBytes = new AtomicLong();
    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedDeque<ByteBuffer>[] idle = new ConcurrentLinkedDeque[MAX_CLASS + 1];

    public KvBufferPool(long maxPooledBytes) {
        this.maxPooledBytes = maxPooledBytes;
        for (int c = MIN_CLASS; c <= MAX_CLASS; c++) idle[c] = new ConcurrentLinkedDeque<>();
    }

    /** A direct buffer with position 0 and limit {@code bytes}, maybe larger underneath. */
    ByteBuffer acquire(int bytes) {
        if (bytes < 0) throw new IllegalArgumentException("a buffer of " + bytes + " bytes");
        if (bytes == 0) return EMPTY;
        int c = sizeClass(bytes);
        if (c > MAX_CLASS) return ByteBuffer.allocateDirect(bytes); // larger than any pooled size: not kept
        ByteBuffer b = idle[c].pollFirst();
        if (b == null) return ByteBuffer.allocateDirect(1 << c).limit(bytes);
        pooledBytes.addAndGet(-b.capacity());
        return b.clear().limit(bytes);
    }

    /** Takes back a buffer {@link #acquire} gave; the caller must not touch it afterwards. */
    void release(ByteBuffer b) {
        if (b == null || !b.isDirect() || b.capacity() == 0 || Integer.bitCount(b.capacity()) != 1) return;
        int c = Integer.numberOfTrailingZeros(b.capacity());
        if (c < MIN_CLASS || c > MAX_CLASS) return;
        if (pooledBytes.addAndGet(b.capacity()) > maxPooledBytes) {
            pooledBytes.addAndGet(-b.capacity());
            return;
        }
        // most recently used first: its pages are the likeliest to be resident
        idle[c].offerFirst(b);
    }

    /** Bytes held idle now. */
    long pooledBytes() { return pooledBytes.get(); }

    private static int sizeClass(int bytes) {
        int c = 32 - Integer.numberOfLeadingZeros(bytes - 1);
        return Math.max(MIN_CLASS, c);
    }
}
