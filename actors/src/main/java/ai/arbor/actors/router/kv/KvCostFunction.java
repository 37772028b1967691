package ai.arbor.actors.router.kv;

import java.util.Random;

/**
 * Dynamo's KV-aware cost: the lower the better.
 * <pre>
 *   prefill_blocks(w) = request_blocks - cached_overlap_blocks(w)      what w must still compute
 *                       - 0.75 * host_overlap_blocks(w)               (blocks it copies up from its host tier)
 *   cost(w)           = overlap_weight * prefill_blocks(w) + decode_blocks(w) + queued_blocks(w)
 * </pre>
 * {@code decode_blocks} is the KV the worker already holds for running requests and {@code queued_blocks} the prompt
 * work waiting there, so a worker with the whole prefix cached still loses once it is busy enough: one shared system
 * prompt cannot pull every request onto one worker. With temperature 0 the lowest cost wins; among equal costs the
 * most cached overlap wins, then chance; with temperature &gt; 0 the choice is sampled from a softmax over the costs normalised to
 * [0, 1], which spreads load at the price of some cache hits.
 */
public final class KvCostFunction {
    private static final double TIE = 1e-9;

    /**
     * What a leading block held in a worker's host KV tier saves, against one in its primary pool (1): Dynamo's credit
     * for host-tier hits ({@code router-offloading.md}). Copying the block up costs less than computing it again and
     * more than finding it in place.
     */
    public static final double HOST_HIT_CREDIT = 0.75;

    /**
     * A worker as the cost sees it.
     *
     * @param overlapBlocks     leading blocks of the request in its primary pool
     * @param hostOverlapBlocks the leading blocks after those that its host tier holds
     */
    public record Candidate(long workerId, int overlapBlocks, double decodeBlocks, double queuedBlocks,
                            int hostOverlapBlocks) {
        /** A worker without a host tier. */
        public Candidate(long workerId, int overlapBlocks, double decodeBlocks, double queuedBlocks) {
            this(workerId, overlapBlocks, decodeBlocks, queuedBlocks, 0);
        }
    }

    private final double overlapWeight;
    private final double temperature;

    public KvCostFunction(double overlapWeight, double temperature) {
        if (!(overlapWeight >= 0) || Double.isInfinite(overlapWeight)) {
            throw new IllegalArgumentException("router overlap weight must be a finite number >= 0, got " + overlapWeight);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("router temperature must be a finite number >= 0, got " + temperature);
        }
        this.overlapWeight = overlapWeight;
        this.temperature = temperature;
    }

    /** Dynamo's defaults: prefill and decode blocks weigh the same, no sampling. */
    public static KvCostFunction defaults() { return new KvCostFunction(1.0, 0.0); }

    public double overlapWeight() { return overlapWeight; }

    public double temperature() { return temperature; }

    public double cost(double requestBlocks, Candidate c) {
        double prefill = Math.max(0, requestBlocks - c.overlapBlocks() - HOST_HIT_CREDIT * c.hostOverlapBlocks());
        return overlapWeight * prefill + c.decodeBlocks() + c.queuedBlocks();
    }

    /**
     * The index in {@code candidates} of the chosen worker.
     *
     * @param requestBlocks the request's prompt length in blocks (tokens / block size, fractions allowed)
     */
    public int choose(double requestBlocks, Candidate[] candidates, Random random) {
        int n = candidates.length;
        if (n == 0) throw new IllegalArgumentException("no candidate workers to choose from");
        double[] cost = new double[n];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            cost[i] = cost(requestBlocks, candidates[i]);
            min = Math.min(min, cost[i]);
            max = Math.max(max, cost[i]);
        }
        if (temperature == 0 || max - min <= TIE) return lowest(cost, min, candidates, random);
        double[] weight = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            weight[i] = Math.exp(-((cost[i] - min) / (max - min)) / temperature);
            total += weight[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < n; i++) {
            r -= weight[i];
            if (r < 0) return i;
        }
        return n - 1;
    }

    /**
     * Among the candidates within {@link #TIE} of the minimum, the one with the most cached overlap (equal cost, less
     * compute: it leaves the cluster more capacity and the other caches their contents), then uniformly at random
     * (reservoir sampling, one pass).
     */
    private static int lowest(double[] cost, double min, Candidate[] candidates, Random random) {
        int chosen = -1;
        int seen = 0;
        int bestOverlap = -1;
        for (int i = 0; i < cost.length; i++) {
            if (cost[i] - min > TIE) continue;
            int overlap = candidates[i].overlapBlocks();
            if (overlap > bestOverlap) {
                bestOverlap = overlap;
                seen = 0;
            }
            if (overlap == bestOverlap && random.nextInt(++seen) == 0) chosen = i;
        }
        return chosen;
    }
}
