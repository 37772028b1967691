package ai.arbor.gpu.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits a batched KV copy into rounds of at most {@code roundBlocks} blocks (what the staging buffers hold). Each
 * round lists indices into the caller's block ids. For a write, only the last occurrence of a block id is kept: single
 * writes in order would leave its bytes, while the scatter kernel writes the runs of a repeated id in no set order.
 */
final class KvCopyRounds {
    private KvCopyRounds() {}

    static List<int[]> forRead(int[] blockIds, int roundBlocks) {
        int[] all = new int[blockIds.length];
        for (int i = 0; i < all.length; i++) all[i] = i;
        return split(all, roundBlocks);
    }

    static List<int[]> forWrite(int[] blockIds, int roundBlocks) {
        Map<Integer, Integer> last = new HashMap<>();
        for (int i = 0; i < blockIds.length; i++) last.put(blockIds[i], i);
        int[] kept = new int[last.size()];
        int n = 0;
        for (int i = 0; i < blockIds.length; i++) if (last.get(blockIds[i]) == i) kept[n++] = i;
        return split(kept, roundBlocks);
    }

    private static List<int[]> split(int[] indices, int roundBlocks) {
        if (roundBlocks < 1) throw new IllegalArgumentException("a copy round needs room for a block");
        List<int[]> rounds = new ArrayList<>();
        for (int from = 0; from < indices.length; from += roundBlocks) {
            rounds.add(Arrays.copyOfRange(indices, from, Math.min(indices.length, from + roundBlocks)));
        }
        return rounds;
    }
}
