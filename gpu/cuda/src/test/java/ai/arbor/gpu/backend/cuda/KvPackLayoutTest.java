package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The arithmetic kv_copy.cu's gather and scatter run, emulated on byte arrays: packing the listed blocks gives each
 * block in the format a single-block copy gives (K of layer 0, V of layer 0, K of layer 1, ...), for any order of ids,
 * repeats included, and unpacking puts every run back where it came from.
 */
class KvPackLayoutTest {
    // a small cache: 3 layers, 5 blocks of 2 tokens, kvDim 32, bf16; each layer's cache has one scratch block more
    private static final int LAYERS = 3, BLOCKS = 5, BLOCK_SIZE = 2, KV_DIM = 32, ELEM = 2;
    private static final KvPackLayout L = KvPackLayout.of(LAYERS, (long) (BLOCKS + 1) * BLOCK_SIZE * KV_DIM, BLOCK_SIZE,
            KV_DIM, ELEM);

    @Test
    void theQwen15bShape() {
        KvPackLayout q = KvPackLayout.of(28, 1001L * 16 * 256, 16, 256, 2);
        assertEquals(8192, q.runBytes());
        assertEquals(56, q.runsPerBlock());
        assertEquals(458_752, q.blockBytes(), "448 KiB a block");
        assertEquals(73, q.roundBlocks(32L << 20), "blocks in a 32 MiB round");
        assertEquals(1, q.roundBlocks(1), "a round holds at least one block");
        assertEquals(27L * 1001 * 16 * 256 * 2 + 999L * 8192, q.cacheOffset(999, 55), "V of the last layer of block 999");
        assertTrue(KvPackLayout.isValue(55));
        assertFalse(KvPackLayout.isValue(54));
        assertEquals((2L * 56 + 3) * 8192, q.stagingOffset(2, 3));
    }

    @Test
    void runsThatAreNotWhole16ByteWordsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new KvPackLayout(2, 1000, 24));
        assertThrows(IllegalArgumentException.class, () -> new KvPackLayout(2, 1000, 16 * 100));
        assertThrows(IllegalArgumentException.class, () -> new KvPackLayout(0, 64, 16));
    }

    @Test
    void gatherGivesEachListedBlockInTheSingleBlockFormat() {
        byte[][] cache = randomCache(1);
        int[] ids = {3, 0, 4, 3, 1, 1};
        byte[] staging = gather(cache, ids);
        for (int i = 0; i < ids.length; i++) {
            byte[] expected = singleBlock(cache, ids[i]);
            byte[] got = new byte[expected.length];
            System.arraycopy(staging, (int) L.stagingOffset(i, 0), got, 0, got.length);
            assertArrayEquals(expected, got, "block " + ids[i] + " at position " + i);
        }
    }

    @Test
    void scatterWritesEveryRunWhereGatherReadsIt() {
        byte[][] from = randomCache(2);
        int[] ids = {4, 2, 0};
        byte[] staging = gather(from, ids);
        byte[][] to = randomCache(3);
        byte[][] untouched = {to[0].clone(), to[1].clone()};
        scatter(to, ids, staging);
        for (int id = 0; id <= BLOCKS; id++) {
            boolean listed = id == 4 || id == 2 || id == 0;
            assertArrayEquals(singleBlock(listed ? from : untouched, id), singleBlock(to, id), "block " + id);
        }
    }

    /** kv_gather: staging run r = the cache run the kernel's run_in_cache names. */
    private static byte[] gather(byte[][] cache, int[] ids) {
        byte[] staging = new byte[(int) (ids.length * L.blockBytes())];
        for (long r = 0; r < (long) ids.length * L.runsPerBlock(); r++) {
            int j = L.runOfRun(r);
            System.arraycopy(cache[KvPackLayout.isValue(j) ? 1 : 0], (int) L.cacheOffset(ids[L.blockOfRun(r)], j),
                    staging, (int) (r * L.runBytes()), (int) L.runBytes());
        }
        return staging;
    }

    private static void scatter(byte[][] cache, int[] ids, byte[] staging) {
        for (long r = 0; r < (long) ids.length * L.runsPerBlock(); r++) {
            int j = L.runOfRun(r);
            System.arraycopy(staging, (int) (r * L.runBytes()), cache[KvPackLayout.isValue(j) ? 1 : 0],
                    (int) L.cacheOffset(ids[L.blockOfRun(r)], j), (int) L.runBytes());
        }
    }

    /** A block as the single-block copy defines it, from first principles: per layer, K's slots then V's. */
    private static byte[] singleBlock(byte[][] cache, int id) {
        int run = BLOCK_SIZE * KV_DIM * ELEM;
        int layerBytes = (BLOCKS + 1) * run;
        byte[] out = new byte[2 * LAYERS * run];
        for (int l = 0; l < LAYERS; l++) {
            System.arraycopy(cache[0], l * layerBytes + id * run, out, 2 * l * run, run);
            System.arraycopy(cache[1], l * layerBytes + id * run, out, (2 * l + 1) * run, run);
        }
        return out;
    }

    /** {K cache, V cache} of random bytes. */
    private static byte[][] randomCache(long seed) {
        Random r = new Random(seed);
        byte[][] kv = new byte[2][(int) (LAYERS * L.layerStrideBytes())];
        r.nextBytes(kv[0]);
        r.nextBytes(kv[1]);
        return kv;
    }
}
