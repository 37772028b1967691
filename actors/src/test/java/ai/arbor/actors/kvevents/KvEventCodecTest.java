package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class KvEventCodecTest {
    @Test
    void roundTripsEveryEventKindAsHashesOnly() {
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, Integer.MAX_VALUE};
        KvEventBatch batch = new KvEventBatch(-77L, List.of(
                BlockEvent.fromEngine(new KvEvent.BlockStored(0, null, new long[]{1, -2}, tokens, 4)),
                BlockEvent.fromEngine(new KvEvent.BlockStored(1, -2L, new long[]{3}, new int[]{9, 9, 9, 9}, 4)),
                BlockEvent.fromEngine(new KvEvent.BlockRemoved(2, new long[]{1, 3})),
                BlockEvent.fromEngine(new KvEvent.AllBlocksCleared(3))));
        byte[] wire = KvEventCodec.encode(batch);
        KvEventBatch back = KvEventCodec.decode(wire);
        assertEquals(-77L, back.workerId());
        assertEquals(4, back.events().size());
        var s0 = (BlockEvent.Stored) back.events().get(0);
        assertNull(s0.parentBlockHash());
        assertArrayEquals(new long[]{1, -2}, s0.blockHashes());
        // the router's keys, computed on the worker from the tokens, which stay there
        assertArrayEquals(RouterBlockHash.localHashes(tokens, 4, 2), s0.localHashes());
        assertEquals(4, s0.blockSize());
        var s1 = (BlockEvent.Stored) back.events().get(1);
        assertEquals(-2L, s1.parentBlockHash());
        assertEquals(1, s1.eventId());
        assertArrayEquals(new long[]{1, 3}, ((BlockEvent.Removed) back.events().get(2)).blockHashes());
        assertInstanceOf(BlockEvent.Cleared.class, back.events().get(3));
        assertEquals(3, back.events().get(3).eventId());
        // 1+8+4 header, stored 1+8+1+4+4+2*16, stored 1+8+1+8+4+4+16, removed 1+8+4+16, cleared 1+8: no room for tokens
        assertEquals(13 + 50 + 42 + 29 + 9, wire.length);
    }

    @Test
    void garbageIsRejectedWithAReason() {
        byte[] good = KvEventCodec.encode(new KvEventBatch(1, List.of(new BlockEvent.Removed(0, new long[]{5}))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KvEventCodec.decode(new byte[]{9}))
                .getMessage().contains("version 9"));
        byte[] tokenCarrying = good.clone();
        tokenCarrying[0] = 1;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KvEventCodec.decode(tokenCarrying))
                .getMessage().contains("version 1"), "the old format that carried token ids is refused");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KvEventCodec.decode(java.util.Arrays.copyOf(good, good.length - 1)))
                .getMessage().contains("truncated"));
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 2);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KvEventCodec.decode(longer)).getMessage().contains("trailing"));
        assertThrows(IllegalArgumentException.class, () -> KvEventCodec.encode(new KvEventBatch(1,
                List.of(new BlockEvent.Stored(0, null, new long[]{1}, new long[0], 4)))));
        assertThrows(IllegalArgumentException.class, () -> BlockEvent.fromEngine(new KvEvent.BlockStored(0, null, new long[]{1}, new int[3], 4)));
    }

    @Test
    void subjectsAreValidNatsTokens() {
        assertEquals("arbor.kv.Qwen_Qwen2_5-0_5B.ff", KvSubjects.worker("Qwen/Qwen2.5-0.5B", 255));
        assertEquals("arbor.kv.m.ffffffffffffffff", KvSubjects.worker("m", -1));
        assertEquals("arbor.kv.tiny-qwen2.*", KvSubjects.allWorkers("tiny-qwen2"));
        assertThrows(IllegalArgumentException.class, () -> KvSubjects.modelToken(" "));
    }
}
