package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class KvCopyRoundsTest {
    @Test
    void aReadKeepsEveryIdInOrderInBoundedRounds() {
        List<int[]> rounds = KvCopyRounds.forRead(new int[] {9, 3, 3, 7, 0, 9, 1}, 3);
        assertEquals(3, rounds.size());
        assertArrayEquals(new int[] {0, 1, 2}, rounds.get(0));
        assertArrayEquals(new int[] {3, 4, 5}, rounds.get(1));
        assertArrayEquals(new int[] {6}, rounds.get(2));
        assertTrue(KvCopyRounds.forRead(new int[0], 3).isEmpty());
    }

    @Test
    void aWriteKeepsOnlyTheLastOccurrenceOfAnId() {
        // as single writes in order would: block 3 ends with the bytes of position 4, block 9 with those of 5
        List<int[]> rounds = KvCopyRounds.forWrite(new int[] {9, 3, 7, 0, 3, 9}, 2);
        assertEquals(2, rounds.size());
        assertArrayEquals(new int[] {2, 3}, rounds.get(0));
        assertArrayEquals(new int[] {4, 5}, rounds.get(1));
        assertThrows(IllegalArgumentException.class, () -> KvCopyRounds.forWrite(new int[] {1}, 0));
    }
}
