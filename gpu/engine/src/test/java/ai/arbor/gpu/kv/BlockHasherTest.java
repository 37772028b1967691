package ai.arbor.gpu.kv;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class BlockHasherTest {
    private final BlockHasher hasher = new BlockHasher(4);

    @Test
    void equalBlocksAfterEqualPrefixesHashEqual() {
        int[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        int[] b = {1, 2, 3, 4, 5, 6, 7, 8, 42};
        assertArrayEquals(hasher.hashFullBlocks(a, a.length), hasher.hashFullBlocks(b, b.length));
        assertEquals(2, hasher.hashFullBlocks(a, a.length).length, "the partial third block is not hashed");
    }

    @Test
    void hashChainsThroughTheParent() {
        int[] a = {1, 2, 3, 4, 5, 6, 7, 8};
        int[] b = {9, 2, 3, 4, 5, 6, 7, 8};
        long[] ha = hasher.hashFullBlocks(a, a.length);
        long[] hb = hasher.hashFullBlocks(b, b.length);
        assertNotEquals(ha[0], hb[0]);
        assertNotEquals(ha[1], hb[1], "same tokens in block 1 but a different prefix must hash differently");
        assertEquals(ha[1], hasher.hashBlock(ha[0], a, 4));
        assertNotEquals(hasher.hashBlock(null, a, 4), ha[1], "a first block differs from the same tokens later on");
    }

    @Test
    void rejectsBlocksPastTheEnd() {
        assertThrows(IllegalArgumentException.class, () -> hasher.hashBlock(null, new int[] {1, 2, 3}, 0));
    }
}
