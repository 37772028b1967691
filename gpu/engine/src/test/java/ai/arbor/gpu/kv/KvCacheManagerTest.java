package ai.arbor.gpu.kv;

import ai.arbor.gpu.protocol.KvEvent;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvCacheManagerTest {
    private static final int BS = 4;

    static int[] seq(int n, int base) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = base + i;
        return t;
    }

    @Test
    void allocatesBlocksAsTokensGrow() {
        KvCacheManager kv = new KvCacheManager(8, BS, true);
        assertTrue(kv.allocateSlots("a", 0, 6, CachedPrefix.NONE));
        assertEquals(2, kv.numBlocksHeld("a"));
        assertTrue(kv.allocateSlots("a", 6, 2, null));
        assertEquals(2, kv.numBlocksHeld("a"), "slot 7 still fits in the second block");
        assertTrue(kv.allocateSlots("a", 8, 1, null));
        assertEquals(3, kv.numBlocksHeld("a"));
        assertEquals(3, kv.blockTable("a").length);
        assertFalse(kv.allocateSlots("b", 0, 21, CachedPrefix.NONE), "needs 6 blocks, 5 free");
        assertEquals(0, kv.numBlocksHeld("b"), "a failed allocation changes nothing");
        kv.free("a");
        assertEquals(8, kv.numFreeBlocks());
    }

    @Test
    void findsTheLongestCachedPrefixButNeverTheLastToken() {
        KvCacheManager kv = new KvCacheManager(16, BS, true);
        int[] a = seq(10, 100);
        assertTrue(kv.allocateSlots("a", 0, 10, CachedPrefix.NONE));
        kv.cacheComputedBlocks("a", a, 10);

        int[] b = a.clone();
        b[9] = 999; // same first two full blocks, different tail
        CachedPrefix hit = kv.findCachedPrefix(b, 10);
        assertEquals(8, hit.numTokens());
        assertArrayEquals(java.util.Arrays.copyOf(kv.blockTable("a"), 2), hit.blocks().stream().mapToInt(KvBlock::id).toArray());

        int[] c = java.util.Arrays.copyOf(a, 8); // exactly two blocks: the last one must be recomputed
        assertEquals(4, kv.findCachedPrefix(c, 8).numTokens());

        int[] d = a.clone();
        d[5] = -1; // differs inside block 1: only block 0 matches
        assertEquals(4, kv.findCachedPrefix(d, 10).numTokens());

        assertTrue(kv.allocateSlots("b", hit.numTokens(), 2, hit));
        assertEquals(2, hit.blocks().get(0).refCount(), "shared between a and b");
        assertEquals(3, kv.numBlocksHeld("b"));
        kv.free("a");
        kv.free("b");
        assertEquals(16, kv.numFreeBlocks());
    }

    @Test
    void freedPrefixSurvivesUntilEvicted() {
        KvCacheManager kv = new KvCacheManager(4, BS, true);
        int[] a = seq(9, 0);
        kv.allocateSlots("a", 0, 9, CachedPrefix.NONE);
        kv.cacheComputedBlocks("a", a, 9);
        kv.free("a");
        assertEquals(8, kv.findCachedPrefix(a, 9).numTokens(), "freed blocks are still cached");

        // A request needing all four blocks evicts both cached blocks.
        int[] other = seq(16, 1000);
        assertTrue(kv.allocateSlots("o", 0, 16, CachedPrefix.NONE));
        assertEquals(0, kv.findCachedPrefix(a, 9).numTokens());
        kv.free("o");
    }

    @Test
    void evictsTailBlocksFirst() {
        KvCacheManager kv = new KvCacheManager(3, BS, true);
        int[] a = seq(12, 0);
        kv.allocateSlots("a", 0, 12, CachedPrefix.NONE);
        kv.cacheComputedBlocks("a", a, 12);
        kv.free("a");
        kv.allocateSlots("x", 0, 4, CachedPrefix.NONE); // takes one block: must be a's last one
        assertEquals(8, kv.findCachedPrefix(a, 12).numTokens(), "the first two blocks of a are still cached");
        kv.free("x");
    }

    @Test
    void hitOnFreeBlocksCountsAgainstFreeSpace() {
        KvCacheManager kv = new KvCacheManager(3, BS, true);
        int[] a = seq(9, 0);
        kv.allocateSlots("a", 0, 9, CachedPrefix.NONE);
        kv.cacheComputedBlocks("a", a, 9);
        kv.free("a");
        CachedPrefix hit = kv.findCachedPrefix(a, 9);
        assertEquals(8, hit.numTokens());
        // 2 hit blocks leave the free queue, 2 more are needed for 16 tokens: 4 > 3.
        assertFalse(kv.allocateSlots("b", 8, 8, hit));
        assertEquals(3, kv.numFreeBlocks());
        assertTrue(kv.allocateSlots("b", 8, 4, hit));
        assertEquals(0, kv.numFreeBlocks());
        kv.free("b");
    }

    @Test
    void eventsAreMonotonicAndDescribeTheBlocks() {
        KvCacheManager kv = new KvCacheManager(4, BS, true);
        int[] a = seq(8, 0);
        kv.allocateSlots("a", 0, 5, CachedPrefix.NONE);
        kv.cacheComputedBlocks("a", a, 5); // block 0 full
        kv.allocateSlots("a", 5, 3, null);
        kv.cacheComputedBlocks("a", a, 8); // block 1 full
        kv.free("a");
        kv.allocateSlots("z", 0, 16, CachedPrefix.NONE); // evicts both
        kv.free("z");
        assertTrue(kv.resetPrefixCache());

        List<KvEvent> events = new ArrayList<>(kv.drainEvents());
        assertEquals(4, events.size());
        for (int i = 0; i < events.size(); i++) assertEquals(i, events.get(i).eventId());
        BlockHasher h = new BlockHasher(BS);
        long[] hashes = h.hashFullBlocks(a, 8);
        KvEvent.BlockStored first = (KvEvent.BlockStored) events.get(0);
        assertNull(first.parentBlockHash());
        assertArrayEquals(new long[] {hashes[0]}, first.blockHashes());
        assertArrayEquals(new int[] {0, 1, 2, 3}, first.tokenIds());
        assertEquals(BS, first.blockSize());
        KvEvent.BlockStored second = (KvEvent.BlockStored) events.get(1);
        assertEquals(hashes[0], second.parentBlockHash());
        assertArrayEquals(new long[] {hashes[1]}, second.blockHashes());
        assertArrayEquals(new int[] {4, 5, 6, 7}, second.tokenIds());
        KvEvent.BlockRemoved removed = (KvEvent.BlockRemoved) events.get(2);
        assertEquals(2, removed.blockHashes().length);
        assertTrue(java.util.Arrays.stream(removed.blockHashes()).allMatch(x -> x == hashes[0] || x == hashes[1]));
        assertInstanceOf(KvEvent.AllBlocksCleared.class, events.get(3));
    }

    @Test
    void disabledPrefixCachingNeverHitsNorReports() {
        KvCacheManager kv = new KvCacheManager(4, BS, false);
        int[] a = seq(9, 0);
        kv.allocateSlots("a", 0, 9, CachedPrefix.NONE);
        kv.cacheComputedBlocks("a", a, 9);
        assertEquals(0, kv.findCachedPrefix(a, 9).numTokens());
        kv.free("a");
        assertTrue(kv.drainEvents().isEmpty());
    }
}
