package ai.arbor.gpu.backend.cpu;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.KvBlockCopier;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The batched calls of {@link KvBlockCopier} (the interface's loops over single blocks) on the CPU backend's cache. */
class CpuKvBlockCopierTest {
    private static final int LAYERS = 3;
    private static final int BLOCKS = 10;

    private static KvBlockCopier copier() { return new CpuKvBlockCopier(new KvCache(LAYERS, BLOCKS, 4, 2, 8)); }

    private static ByteBuffer randomBlocks(KvBlockCopier c, int n, long seed) {
        Random r = new Random(seed);
        // whole floats that are not NaN, so bytes survive the float round trip exactly
        ByteBuffer out = ByteBuffer.allocateDirect(n * (int) c.blockBytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        while (out.hasRemaining()) out.putFloat(r.nextInt(1 << 20) - (1 << 19));
        return out.flip();
    }

    private static ByteBuffer block(ByteBuffer all, int i, long bytes) {
        return all.duplicate().position((int) (i * bytes)).limit((int) ((i + 1) * bytes)).slice();
    }

    @Test
    void aBatchedWriteReadsBackTheSameThroughSingleAndBatchedReads() {
        KvBlockCopier c = copier();
        long bytes = c.blockBytes();
        assertEquals(LAYERS * 2L * 4 * 16 * 4, bytes);
        int[] ids = {7, 2, 9, 0};
        ByteBuffer src = randomBlocks(c, ids.length, 1);
        c.write(ids, src);
        assertEquals(src.limit(), src.position(), "the source advanced past every block");

        for (int i = 0; i < ids.length; i++) {
            ByteBuffer one = ByteBuffer.allocateDirect((int) bytes);
            c.read(ids[i], one);
            assertEquals(block(src, i, bytes), one.flip(), "block " + ids[i] + " read alone");
        }
        int[] again = {9, 9, 2, 7, 0, 2}; // another order, repeats
        ByteBuffer dst = ByteBuffer.allocateDirect(again.length * (int) bytes);
        c.read(again, dst);
        assertFalse(dst.hasRemaining(), "the destination advanced past every block");
        int[] where = {2, 2, 1, 0, 3, 1};
        for (int i = 0; i < again.length; i++) {
            assertEquals(block(src, where[i], bytes), block(dst, i, bytes), "block " + again[i] + " of the batch");
        }
    }

    @Test
    void perBlockBuffersAdvanceEachAndARepeatedWriteLeavesTheLastBytes() {
        KvBlockCopier c = copier();
        long bytes = c.blockBytes();
        ByteBuffer a = randomBlocks(c, 1, 2);
        ByteBuffer b = randomBlocks(c, 1, 3);
        c.write(new int[] {5, 5}, new ByteBuffer[] {a.duplicate(), b.duplicate()});
        ByteBuffer[] outs = {ByteBuffer.allocate((int) bytes), ByteBuffer.allocate((int) bytes)};
        c.read(new int[] {5, 5}, outs);
        for (ByteBuffer o : outs) {
            assertFalse(o.hasRemaining());
            assertEquals(b, o.flip(), "as two single writes in order would leave it");
        }
    }

    @Test
    void aBadBlockOrAShortBufferFailsBeforeAnyCopy() {
        KvBlockCopier c = copier();
        ByteBuffer src = randomBlocks(c, 2, 4);
        assertThrows(IllegalArgumentException.class, () -> c.write(new int[] {1, 2, 3}, src));
        assertEquals(0, src.position());
        assertThrows(IllegalArgumentException.class, () -> c.read(new int[] {1}, new ByteBuffer[0]));
        assertThrows(IllegalArgumentException.class, () -> c.read(new int[] {BLOCKS}, ByteBuffer.allocate((int) c.blockBytes())));
        c.read(new int[0], ByteBuffer.allocate(0)); // nothing to do
    }
}
