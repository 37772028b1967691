package ai.arbor.gpu.kv;

import ai.arbor.gpu.protocol.KvEvent;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class BlockPoolTest {

    @Test
    void allocateAndFreeCountReferences() {
        BlockPool pool = new BlockPool(4, 16);
        List<KvBlock> a = pool.allocate(3);
        assertEquals(1, pool.numFreeBlocks());
        assertEquals(3, pool.numActiveBlocks());
        pool.touch(List.of(a.get(0)));
        assertEquals(2, a.get(0).refCount());
        pool.free(a);
        assertEquals(3, pool.numFreeBlocks(), "the shared block is still held once");
        pool.free(List.of(a.get(0)));
        assertEquals(4, pool.numFreeBlocks());
        assertThrows(IllegalStateException.class, () -> pool.free(List.of(a.get(0))));
        assertThrows(IllegalStateException.class, () -> pool.allocate(5));
    }

    @Test
    void freedBlocksAreReusedInLruOrderAndEvictionIsReported() {
        BlockPool pool = new BlockPool(3, 16);
        List<KvBlock> all = pool.allocate(3);
        assertTrue(pool.cache(all.get(0), 100));
        assertTrue(pool.cache(all.get(1), 101));
        pool.reportStored(null, new long[] {100, 101}, new int[32]);
        pool.free(List.of(all.get(1)));
        pool.free(List.of(all.get(0)));
        pool.free(List.of(all.get(2)));
        assertSame(all.get(0), pool.cachedBlock(100), "a freed full block stays findable");

        // Hit block 0: it leaves the free queue, so the next allocation takes the least recently freed other one.
        pool.touch(List.of(all.get(0)));
        List<KvBlock> b = pool.allocate(1);
        assertSame(all.get(1), b.get(0));
        assertNull(pool.cachedBlock(101), "reusing a block evicts its cached content");
        assertFalse(b.get(0).isHashed());

        List<KvEvent> events = pool.drainEvents();
        assertEquals(2, events.size());
        KvEvent.BlockStored stored = (KvEvent.BlockStored) events.get(0);
        assertEquals(0, stored.eventId());
        assertArrayEquals(new long[] {100, 101}, stored.blockHashes());
        KvEvent.BlockRemoved removed = (KvEvent.BlockRemoved) events.get(1);
        assertEquals(1, removed.eventId());
        assertArrayEquals(new long[] {101}, removed.blockHashes());
        assertTrue(pool.drainEvents().isEmpty());
    }

    @Test
    void duplicateContentStaysAnonymous() {
        BlockPool pool = new BlockPool(2, 16);
        List<KvBlock> two = pool.allocate(2);
        assertTrue(pool.cache(two.get(0), 7));
        assertFalse(pool.cache(two.get(1), 7));
        assertSame(two.get(0), pool.cachedBlock(7));
        assertFalse(two.get(1).isHashed());
    }

    @Test
    void resetClearsOnlyWhenIdleAndIsReported() {
        BlockPool pool = new BlockPool(2, 16);
        List<KvBlock> a = pool.allocate(1);
        pool.cache(a.get(0), 5);
        assertFalse(pool.resetPrefixCache());
        pool.free(a);
        assertTrue(pool.resetPrefixCache());
        assertNull(pool.cachedBlock(5));
        List<KvEvent> events = pool.drainEvents();
        assertEquals(List.of(new KvEvent.AllBlocksCleared(0)), events);
    }
}
