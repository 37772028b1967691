package ai.arbor.gpu.backend;

import java.nio.ByteBuffer;

/** Cuts a buffer holding blocks back to back into one view per block, for the batched {@link KvBlockCopier} calls. */
final class BlockRuns {
    private BlockRuns() {}

    /**
     * {@code n} views of {@code blockBytes} each, one after another from {@code buf}'s position (the buffer itself does
     * not move); fails, before any copy, when the buffer has less than {@code n} blocks left.
     */
    static ByteBuffer[] slices(ByteBuffer buf, int n, long blockBytes) {
        if (buf.remaining() < n * blockBytes) {
            throw new IllegalArgumentException(n + " KV blocks take " + n * blockBytes + " bytes, the buffer has "
                    + buf.remaining() + " left");
        }
        ByteBuffer[] out = new ByteBuffer[n];
        int at = buf.position();
        for (int i = 0; i < n; i++) {
            out[i] = buf.duplicate().position(at).limit(at + (int) blockBytes);
            at += (int) blockBytes;
        }
        return out;
    }
}
