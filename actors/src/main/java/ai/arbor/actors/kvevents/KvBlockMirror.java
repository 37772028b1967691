package ai.arbor.actors.kvevents;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A worker-side copy of which blocks its engine has cached, kept from the events it publishes, so that the worker can
 * re-describe its whole cache when routers lost track of it (a resync): {@link #dump} gives a Cleared followed by one
 * Stored per block, parents before children. It holds hashes only, like the events.
 */
final class KvBlockMirror {
    private record Block(Long parent, long localHash, int blockSize) {}

    private final Map<Long, Block> blocks = new LinkedHashMap<>();

    void apply(BlockEvent e) {
        if (e instanceof BlockEvent.Stored s) {
            Long parent = s.parentBlockHash();
            for (int b = 0; b < s.blockHashes().length; b++) {
                blocks.put(s.blockHashes()[b], new Block(parent, s.localHashes()[b], s.blockSize()));
                parent = s.blockHashes()[b];
            }
        } else if (e instanceof BlockEvent.Removed r) {
            for (long h : r.blockHashes()) blocks.remove(h);
        } else {
            blocks.clear();
        }
    }

    int size() { return blocks.size(); }

    /** The cache as events numbered from {@code firstId}: a clear, then every block after its parent. */
    List<BlockEvent> dump(long firstId) {
        Map<Long, List<Long>> children = new HashMap<>();
        ArrayDeque<Long> queue = new ArrayDeque<>();
        for (var e : blocks.entrySet()) {
            Long parent = e.getValue().parent();
            if (parent == null || !blocks.containsKey(parent)) queue.add(e.getKey());
            else children.computeIfAbsent(parent, k -> new ArrayList<>()).add(e.getKey());
        }
        List<BlockEvent> out = new ArrayList<>(blocks.size() + 1);
        long id = firstId;
        out.add(new BlockEvent.Cleared(id++));
        while (!queue.isEmpty()) {
            long h = queue.poll();
            Block b = blocks.get(h);
            out.add(new BlockEvent.Stored(id++, b.parent(), new long[]{h}, new long[]{b.localHash()}, b.blockSize()));
            List<Long> kids = children.get(h);
            if (kids != null) queue.addAll(kids);
        }
        return out;
    }
}
