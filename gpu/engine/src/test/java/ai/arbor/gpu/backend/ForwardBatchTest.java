package ai.arbor.gpu.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A pass's per-token rows handed back per chunk, as {@link ComputeBackend#hiddenStates} returns them. */
class ForwardBatchTest {

    @Test
    void rowsAreCutIntoEachChunksTokensInBatchOrder() {
        ForwardBatch b = new ForwardBatch(List.of(
                new SequenceChunk(new int[]{1, 2}, 0, new int[]{0}, false),
                new SequenceChunk(new int[]{3}, 7, new int[]{1}, true),
                new SequenceChunk(new int[]{4, 5, 6}, 0, new int[]{2}, false)));
        float[] rows = new float[6 * 2];
        for (int i = 0; i < rows.length; i++) rows[i] = i;
        float[][] out = b.perChunk(rows, 2);
        assertEquals(3, out.length);
        assertArrayEquals(new float[]{0, 1, 2, 3}, out[0]);
        assertArrayEquals(new float[]{4, 5}, out[1]);
        assertArrayEquals(new float[]{6, 7, 8, 9, 10, 11}, out[2]);
    }

    @Test
    void rowsOfAnotherCountAreRejected() {
        ForwardBatch b = new ForwardBatch(List.of(new SequenceChunk(new int[]{1, 2}, 0, new int[]{0}, false)));
        assertThrows(IllegalArgumentException.class, () -> b.perChunk(new float[6], 2));
    }
}
