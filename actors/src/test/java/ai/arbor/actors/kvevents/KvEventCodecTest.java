package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class KvEventCodecTest {
    @Test
    void roundTripsEveryEventKind() {
        KvEventBatch batch = new KvEventBatch(-77L, List.of(
                new KvEvent.BlockStored(0, null, new long[]{1, -2}, new int[]{1, 2, 3, 4, 5, 6, 7, Integer.MAX_VALUE}, 4),
                new KvEvent.BlockStored(1, -2L, new long[]{3}, new int[]{9, 9, 9, 9}, 4),
                new KvEvent.BlockRemoved(2, new long[]{1, 3}),
                new KvEvent.AllBlocksCleared(3)));
        KvEventBatch back = KvEventCodec.decode(KvEventCodec.encode(batch));
        assertEquals(-77L, back.workerId());
        assertEquals(4, back.events().size());
        var s0 = (KvEvent.BlockStored) back.events().get(0);
        assertNull(s0.parentBlockHash());
        assertArrayEquals(new long[]{1, -2}, s0.blockHashes());
        assertArrayEquals(new int[]{1, 2, 3, 4, 5, 6, 7, Integer.MAX_VALUE}, s0.tokenIds());
        assertEquals(4, s0.blockSize());
        var s1 = (KvEvent.BlockStored) back.events().get(1);
        assertEquals(-2L, s1.parentBlockHash());
        assertEquals(1, s1.eventId());
        assertArrayEquals(new long[]{1, 3}, ((KvEvent.BlockRemoved) back.events().get(2)).blockHashes());
        assertInstanceOf(KvEvent.AllBlocksCleared.class, back.events().get(3));
        assertEquals(3, back.events().get(3).eventId());
    }

    @Test
    void garbageIsRejectedWithAReason() {
        byte[] good = KvEventCodec.encode(new KvEventBatch(1, List.of(new KvEvent.BlockRemoved(0, new long[]{5}))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KvEventCodec.decode(new byte[]{9}))
                .getMessage().contains("version 9"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KvEventCodec.decode(java.util.Arrays.copyOf(good, good.length - 1)))
                .getMessage().contains("truncated"));
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 2);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KvEventCodec.decode(longer)).getMessage().contains("trailing"));
        assertThrows(IllegalArgumentException.class, () -> KvEventCodec.encode(new KvEventBatch(1,
                List.of(new KvEvent.BlockStored(0, null, new long[]{1}, new int[3], 4)))));
    }

    @Test
    void subjectsAreValidNatsTokens() {
        assertEquals("arbor.kv.Qwen_Qwen2_5-0_5B.ff", KvSubjects.worker("Qwen/Qwen2.5-0.5B", 255));
        assertEquals("arbor.kv.m.ffffffffffffffff", KvSubjects.worker("m", -1));
        assertEquals("arbor.kv.tiny-qwen2.*", KvSubjects.allWorkers("tiny-qwen2"));
        assertThrows(IllegalArgumentException.class, () -> KvSubjects.modelToken(" "));
    }
}
