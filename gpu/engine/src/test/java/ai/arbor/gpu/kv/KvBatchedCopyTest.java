package ai.arbor.gpu.kv;

import static ai.arbor.gpu.kv.KvCacheManagerTest.seq;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.KvBlockCopier;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The host tier and the block transfers copy several blocks in one batched call (on CUDA one pinned round trip instead
 * of a synchronize and 2 x layers memcpys per block): an allocation that evicts k cached blocks reads them down in one
 * call, an onboard or an import writes in one call, an export reads each run of primary blocks in one call, and the
 * bytes are those of single copies.
 */
class KvBatchedCopyTest {
    private static final int BS = 4;
    private static final int PRIMARY = 6;

    /** A cache of 8-byte blocks in an array; records every call. */
    static final class RecordingCopier implements KvBlockCopier {
        final byte[][] store;
        final List<int[]> batchedReads = new ArrayList<>();
        final List<int[]> batchedWrites = new ArrayList<>();
        int singleCalls;

        RecordingCopier(int blocks) { store = new byte[blocks][8]; }

        @Override public long blockBytes() { return 8; }

        @Override public void read(int blockId, ByteBuffer dst) { singleCalls++; dst.put(store[blockId]); }

        @Override public void write(int blockId, ByteBuffer src) { singleCalls++; src.get(store[blockId]); }

        @Override public void read(int[] ids, ByteBuffer[] dsts) {
            batchedReads.add(ids.clone());
            for (int i = 0; i < ids.length; i++) dsts[i].put(store[ids[i]]);
        }

        @Override public void write(int[] ids, ByteBuffer[] srcs) {
            batchedWrites.add(ids.clone());
            for (int i = 0; i < ids.length; i++) srcs[i].get(store[ids[i]]);
        }

        /** What a forward pass does to a block: new bytes, here a tag. */
        void compute(int blockId, int tag) { Arrays.fill(store[blockId], (byte) tag); }
    }

    @Test
    void evictionsOnboardsAndExportsAreBatchedAndKeepTheBytes() {
        RecordingCopier copier = new RecordingCopier(PRIMARY);
        KvCacheManager kv = new KvCacheManager(PRIMARY, BS, true, new HostKvTier(copier, 64 * 8));
        int[] a = seq(17, 100); // 4 full blocks and one more token
        assertTrue(kv.allocateSlots("a", 0, 17, CachedPrefix.NONE));
        int[] aTable = kv.blockTable("a");
        for (int i = 0; i < aTable.length; i++) copier.compute(aTable[i], 10 + i);
        kv.cacheComputedBlocks("a", a, 17);
        long[] aHashes = kv.prefixHashes(a);
        assertEquals(4, aHashes.length);
        kv.free("a");

        // b takes every block: a's four cached blocks go down to the host tier in one read, before b writes them
        assertTrue(kv.allocateSlots("b", 0, 24, CachedPrefix.NONE));
        assertEquals(1, copier.batchedReads.size(), "one batched read for the allocation's evictions");
        assertEquals(4, copier.batchedReads.get(0).length);
        for (int id : kv.blockTable("b")) copier.compute(id, 99);
        kv.free("b");

        // the blocks are only in the host tier now: an export copies them from there, no device read
        KvBlockBatch fromHost = kv.exportBlocks(aHashes, copier, ByteBuffer::allocate);
        assertEquals(1, copier.batchedReads.size());
        assertBlocks(fromHost, 10, 11, 12, 13);

        // a again: its prefix comes up from the host tier in one batched write
        CachedPrefix hit = kv.findCachedPrefix(a, 17);
        assertEquals(4, hit.hostHashes().length);
        assertTrue(kv.allocateSlots("a2", 16, 1, hit));
        assertEquals(1, copier.batchedWrites.size(), "one batched write for the onboard");
        int[] a2 = kv.blockTable("a2");
        assertArrayEquals(Arrays.copyOf(a2, 4), copier.batchedWrites.get(0));
        for (int i = 0; i < 4; i++) assertEquals(10 + i, copier.store[a2[i]][0], "onboarded block " + i);

        // now in the primary pool: one batched read for the run
        KvBlockBatch fromDevice = kv.exportBlocks(aHashes, copier, ByteBuffer::allocate);
        assertArrayEquals(Arrays.copyOf(a2, 4), copier.batchedReads.get(copier.batchedReads.size() - 1));
        assertBlocks(fromDevice, 10, 11, 12, 13);
        kv.free("a2");

        // push the chain's tail block down again: the export then reads the primary run in one call and the tail from host
        int before = copier.batchedReads.size();
        assertTrue(kv.allocateSlots("c", 0, 12, CachedPrefix.NONE));
        for (int id : kv.blockTable("c")) copier.compute(id, 77);
        int onHost = 0;
        for (long h : aHashes) if (kv.hostTier().contains(h)) onHost++;
        assertTrue(onHost > 0 && onHost < 4, "part of the chain on host: " + onHost);
        KvBlockBatch mixed = kv.exportBlocks(aHashes, copier, ByteBuffer::allocate);
        assertBlocks(mixed, 10, 11, 12, 13);
        assertEquals(4 - onHost, copier.batchedReads.get(copier.batchedReads.size() - 1).length);
        assertTrue(copier.batchedReads.size() - before <= 2, "the eviction's read and the export's run");
        assertEquals(0, copier.singleCalls, "no block was copied alone");
    }

    @Test
    void anImportWritesAllItsBlocksInOneCall() {
        RecordingCopier from = new RecordingCopier(PRIMARY);
        KvCacheManager source = new KvCacheManager(PRIMARY, BS, true);
        int[] p = seq(13, 500);
        assertTrue(source.allocateSlots("p", 0, 13, CachedPrefix.NONE));
        int[] table = source.blockTable("p");
        for (int i = 0; i < table.length; i++) from.compute(table[i], 40 + i);
        source.cacheComputedBlocks("p", p, 13);
        KvBlockBatch batch = source.exportBlocks(source.prefixHashes(p), from, ByteBuffer::allocate);
        assertEquals(1, from.batchedReads.size());

        RecordingCopier to = new RecordingCopier(PRIMARY);
        KvCacheManager sink = new KvCacheManager(PRIMARY, BS, true);
        assertEquals(3, sink.importBlocks(batch, to));
        assertEquals(1, to.batchedWrites.size());
        int[] ids = to.batchedWrites.get(0);
        for (int i = 0; i < 3; i++) assertEquals(40 + i, to.store[ids[i]][0], "imported block " + i);
        assertEquals(0, from.singleCalls + to.singleCalls);
        assertEquals(12, sink.findCachedPrefix(p, 13).numTokens(), "the imported blocks are a prefix hit");
    }

    private static void assertBlocks(KvBlockBatch b, int... tags) {
        assertEquals(tags.length, b.size());
        for (int i = 0; i < tags.length; i++) assertEquals(tags[i], b.data().get(i * 8), "block " + i);
    }
}
