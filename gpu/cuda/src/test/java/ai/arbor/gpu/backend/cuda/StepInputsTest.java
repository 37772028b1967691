package ai.arbor.gpu.backend.cuda;

import ai.arbor.gpu.backend.ForwardBatch;
import ai.arbor.gpu.backend.SequenceChunk;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host-side packing of a step for the kernels (runs without a GPU). */
class StepInputsTest {
    private static final int BS = 4;

    @Test
    void packsPrefillAndDecodeRowsWithSlotsFromTheBlockTables() {
        ForwardBatch b = new ForwardBatch(List.of(
                new SequenceChunk(new int[]{5, 6, 7}, 4, new int[]{9, 2}, true),   // positions 4..6 -> block 2
                new SequenceChunk(new int[]{8}, 1, new int[]{3}, false)));
        StepInputs s = StepInputs.of(b, 100, 10, BS, 0, 1, 10);
        assertEquals(4, s.n());
        assertEquals(1, s.m());
        assertEquals(2, s.width());
        int[] p = s.packed();
        assertArrayEquals(new int[]{5, 6, 7, 8}, slice(p, s.idsOffset(), 4));
        assertArrayEquals(new int[]{4, 5, 6, 1}, slice(p, s.positionsOffset(), 4));
        assertArrayEquals(new int[]{8, 9, 10, 13}, slice(p, s.slotsOffset(), 4));
        assertArrayEquals(new int[]{0, 0, 0, 1}, slice(p, s.seqOfTokenOffset(), 4));
        assertArrayEquals(new int[]{2}, slice(p, s.logitRowsOffset(), 1));
        assertArrayEquals(new int[]{9, 2, 3, 10}, slice(p, s.tablesOffset(), 4)); // short table padded with scratch
    }

    @Test
    void padsDecodeBatchesIntoTheScratchBlock() {
        ForwardBatch b = new ForwardBatch(List.of(new SequenceChunk(new int[]{1}, 6, new int[]{0, 1}, true)));
        assertTrue(StepInputs.isDecode(b));
        StepInputs s = StepInputs.of(b, 100, 5, BS, 4, 4, 5);
        assertEquals(4, s.n());
        assertEquals(4, s.m());
        assertEquals(1, s.realM());
        assertEquals(4, s.width());
        int[] p = s.packed();
        assertArrayEquals(new int[]{6, 20, 20, 20}, slice(p, s.slotsOffset(), 4));
        assertArrayEquals(new int[]{0, 1, 2, 3}, slice(p, s.seqOfTokenOffset(), 4));
        assertArrayEquals(new int[]{0, 1, 2, 3}, slice(p, s.logitRowsOffset(), 4));
        assertArrayEquals(new int[]{0, 1, 5, 5, 5, 5, 5, 5}, slice(p, s.tablesOffset(), 8));
    }

    @Test
    void rejectsBadInputWithClearMessages() {
        assertFalse(StepInputs.isDecode(new ForwardBatch(List.of(new SequenceChunk(new int[]{1, 2}, 0, new int[]{0}, true)))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StepInputs.of(
                new ForwardBatch(List.of(new SequenceChunk(new int[]{1}, 8, new int[]{0}, true))), 100, 5, BS, 0, 1, 5));
        assertTrue(e.getMessage().contains("block table has only 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StepInputs.of(
                new ForwardBatch(List.of(new SequenceChunk(new int[]{100}, 0, new int[]{0}, true))), 100, 5, BS, 0, 1, 5));
        assertTrue(e.getMessage().contains("outside the vocabulary"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> StepInputs.of(
                new ForwardBatch(List.of(new SequenceChunk(new int[]{1}, 0, new int[]{7}, true))), 100, 5, BS, 0, 1, 5));
        assertTrue(e.getMessage().contains("names block 7"), e.getMessage());
    }

    @Test
    void roundsToBf16NearestEven() {
        assertEquals((short) 0x3f80, CudaWeights.floatToBf16(1.0f));
        assertEquals((short) 0x3f80, CudaWeights.floatToBf16(Float.intBitsToFloat(0x3f808000))); // tie -> even
        assertEquals((short) 0x3f82, CudaWeights.floatToBf16(Float.intBitsToFloat(0x3f818000))); // tie -> even (up)
        assertEquals(1.5f, CudaWeights.f16ToFloat((short) 0x3e00));
    }

    @Test
    void parsesDeviceNames() {
        assertEquals(0, CudaBackend.deviceIndex("cuda"));
        assertEquals(3, CudaBackend.deviceIndex("cuda:3"));
        assertThrows(IllegalArgumentException.class, () -> CudaBackend.deviceIndex("gpu:1"));
        assertThrows(IllegalArgumentException.class, () -> CudaBackend.deviceIndex("cuda:-1"));
    }

    private static int[] slice(int[] a, int from, int len) {
        return java.util.Arrays.copyOfRange(a, from, from + len);
    }
}
