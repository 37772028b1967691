package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A worker-side copy of which blocks its engine has cached, kept from the events it publishes, so that the worker can
 * re-describe its whole cache when routers lost track of it (a resync): {@link #dump} gives an AllBlocksCleared
 * followed by one BlockStored per block, parents before children.
 */
final class KvBlockMirror {
    private record Block(Long parent, int[] tokens, int blockSize) {}

    private final Map<Long, Block> blocks = new LinkedHashMap<>();

    void apply(KvEvent e) {
        if (e instanceof KvEvent.BlockStored s) {
            Long parent = s.parentBlockHash();
            for (int b = 0; b < s.blockHashes().length; b++) {
                int[] tokens = java.util.Arrays.copyOfRange(s.tokenIds(), b * s.blockSize(), (b + 1) * s.blockSize());
                blocks.put(s.blockHashes()[b], new Block(parent, tokens, s.blockSize()));
                parent = s.blockHashes()[b];
            }
        } else if (e instanceof KvEvent.BlockRemoved r) {
            for (long h : r.blockHashes()) blocks.remove(h);
        } else {
            blocks.clear();
        }
    }

    int size() { return blocks.size(); }

    /** The cache as events numbered from {@code firstId}: a clear, then every block after its parent. */
    List<KvEvent> dump(long firstId) {
        Map<Long, List<Long>> children = new HashMap<>();
        ArrayDeque<Long> queue = new ArrayDeque<>();
        for (var e : blocks.entrySet()) {
            Long parent = e.getValue().parent();
            if (parent == null || !blocks.containsKey(parent)) queue.add(e.getKey());
            else children.computeIfAbsent(parent, k -> new ArrayList<>()).add(e.getKey());
        }
        List<KvEvent> out = new ArrayList<>(blocks.size() + 1);
        long id = firstId;
        out.add(new KvEvent.AllBlocksCleared(id++));
        while (!queue.isEmpty()) {
            long h = queue.poll();
            Block b = blocks.get(h);
            out.add(new KvEvent.BlockStored(id++, b.parent(), new long[]{h}, b.tokens(), b.blockSize()));
            List<Long> kids = children.get(h);
            if (kids != null) queue.addAll(kids);
        }
        return out;
    }
}
