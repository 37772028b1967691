package ai.arbor.actors.router.index;

/**
 * For one request, how many leading blocks each worker already has cached. Workers with no cached block are absent
 * (depth 0). {@code requestBlocks} is the number of full blocks the request has.
 */
public record OverlapScores(long[] workerIds, int[] depths, int requestBlocks) {
    public static final OverlapScores NONE = new OverlapScores(new long[0], new int[0], 0);

    public OverlapScores {
        if (workerIds.length != depths.length) {
            throw new IllegalArgumentException(workerIds.length + " workers but " + depths.length + " depths");
        }
    }

    /** Cached leading blocks of {@code workerId} for this request, 0 when it has none. */
    public int depth(long workerId) {
        for (int i = 0; i < workerIds.length; i++) if (workerIds[i] == workerId) return depths[i];
        return 0;
    }

    public int maxDepth() {
        int max = 0;
        for (int d : depths) max = Math.max(max, d);
        return max;
    }

    public int size() { return workerIds.length; }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("OverlapScores{");
        for (int i = 0; i < workerIds.length; i++) b.append(i == 0 ? "" : ", ").append(workerIds[i]).append('=').append(depths[i]);
        return b.append(" of ").append(requestBlocks).append('}').toString();
    }

    /** Worker id → depth, ordered by worker id (the arrays' order is arbitrary). */
    public java.util.SortedMap<Long, Integer> toMap() {
        java.util.SortedMap<Long, Integer> m = new java.util.TreeMap<>();
        for (int i = 0; i < workerIds.length; i++) m.put(workerIds[i], depths[i]);
        return m;
    }

    /** Equal when the same workers have the same depths, in whatever order. */
    @Override
    public boolean equals(Object o) {
        return o instanceof OverlapScores s && requestBlocks == s.requestBlocks && toMap().equals(s.toMap());
    }

    @Override
    public int hashCode() { return toMap().hashCode() * 31 + requestBlocks; }
}
