package ai.arbor.gpu.sched;

import ai.arbor.gpu.kv.CachedPrefix;
import ai.arbor.gpu.kv.KvCacheManager;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Continuous batching after vLLM V1's scheduler. Each step has a budget of {@code maxNumBatchedTokens} tokens: running
 * requests come first (a decode token each, or the next chunk of a prompt), then waiting ones are admitted in order,
 * starting after their longest cached prefix and cut into a chunk when the prompt exceeds what is left of the budget.
 * When a running request needs a block and none is free, the running request with the lowest priority (latest
 * arrival) is preempted: its blocks are freed and it goes back to the head of the waiting queue, to be recomputed
 * later (mostly from the prefix cache). Engine thread only.
 *
 * <p>Decodes come first without a separate pass: running requests stay in admission order, and a waiting request is
 * cut into a chunk only when it uses up the budget, so at most the last running request is part-way through its prompt.
 * While anything is prefilling, decodes take at most {@code maxNumSeqs - 1} tokens of a step, so a request that finds a
 * free seat gets its first chunk within floor(Q / (maxNumBatchedTokens - maxNumSeqs + 1)) + 1 steps, Q being the
 * prompt tokens ahead of it (the next step when none are; {@code TimeToFirstChunkTest}).
 */
public final class Scheduler {
    private final KvCacheManager kv;
    private final int maxNumSeqs;
    private final int maxNumBatchedTokens;
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    private final List<Request> running = new ArrayList<>();
    private long prefixCacheQueries;
    private long prefixCacheHits;
    private long preemptions;

    public Scheduler(KvCacheManager kv, int maxNumSeqs, int maxNumBatchedTokens) {
        if (maxNumSeqs < 1) throw new IllegalArgumentException("maxNumSeqs must be >= 1, got " + maxNumSeqs);
        if (maxNumBatchedTokens < 1) {
            throw new IllegalArgumentException("maxNumBatchedTokens must be >= 1, got " + maxNumBatchedTokens);
        }
        this.kv = kv;
        this.maxNumSeqs = maxNumSeqs;
        this.maxNumBatchedTokens = maxNumBatchedTokens;
    }

    public void add(Request r) {
        r.status = RequestStatus.WAITING;
        waiting.addLast(r);
    }

    public SchedulerOutput schedule() {
        int budget = maxNumBatchedTokens;
        List<ScheduledChunk> chunks = new ArrayList<>();
        List<Request> preempted = new ArrayList<>();

        int i = 0;
        while (i < running.size() && budget > 0) {
            Request r = running.get(i);
            int numNew = Math.min(r.numTokens() - r.numComputedTokens, budget);
            if (numNew <= 0) {
                i++;
                continue;
            }
            boolean scheduled = true;
            while (!kv.allocateSlots(r.id(), r.numComputedTokens, numNew, null)) {
                // Only requests not yet scheduled this step are candidates, so no planned chunk loses its blocks.
                Request victim = running.remove(lowestPriority(i));
                preempt(victim);
                preempted.add(victim);
                if (victim == r) {
                    scheduled = false;
                    break;
                }
            }
            if (!scheduled) continue;
            chunks.add(chunk(r, numNew));
            budget -= numNew;
            i++;
        }

        // Like vLLM: a step that had to preempt admits nobody new, or the victim would be displaced again at once.
        if (preempted.isEmpty()) {
            while (!waiting.isEmpty() && budget > 0 && running.size() < maxNumSeqs) {
                Request r = waiting.peekFirst();
                CachedPrefix prefix = kv.findCachedPrefix(r.tokens(), r.numTokens());
                int numNew = Math.min(r.numTokens() - prefix.numTokens(), budget);
                if (!kv.allocateSlots(r.id(), prefix.numTokens(), numNew, prefix)) break;
                waiting.pollFirst();
                if (kv.prefixCachingEnabled()) {
                    prefixCacheQueries += r.numTokens();
                    prefixCacheHits += prefix.numTokens();
                }
                if (r.numCachedTokens < 0) r.numCachedTokens = prefix.numTokens();
                r.numComputedTokens = prefix.numTokens();
                r.status = RequestStatus.RUNNING;
                running.add(r);
                chunks.add(chunk(r, numNew));
                budget -= numNew;
            }
        }
        return new SchedulerOutput(chunks, preempted, maxNumBatchedTokens - budget);
    }

    /** Records that the step's chunks are computed and publishes their newly full blocks to the prefix cache. */
    public void onForwardDone(SchedulerOutput out) {
        for (ScheduledChunk c : out.chunks()) {
            Request r = c.request();
            r.numComputedTokens += c.numTokens();
            kv.cacheComputedBlocks(r.id(), r.tokens(), r.numComputedTokens);
        }
    }

    /** Removes a finished or aborted request wherever it is and frees its blocks. */
    public void finish(Request r) {
        if (!running.remove(r)) waiting.remove(r);
        kv.free(r.id());
        r.status = RequestStatus.FINISHED;
    }

    public List<Request> running() { return List.copyOf(running); }

    public List<Request> waiting() { return List.copyOf(waiting); }

    public int numRunning() { return running.size(); }

    public int numWaiting() { return waiting.size(); }

    public boolean hasRequests() { return !running.isEmpty() || !waiting.isEmpty(); }

    /** Prompt tokens looked up in the prefix cache, counted each time a request is admitted. */
    public long prefixCacheQueries() { return prefixCacheQueries; }

    /** Of those, tokens found. */
    public long prefixCacheHits() { return prefixCacheHits; }

    public long preemptions() { return preemptions; }

    public KvCacheManager kvCache() { return kv; }

    private ScheduledChunk chunk(Request r, int numNew) {
        int start = r.numComputedTokens;
        return new ScheduledChunk(r, start, numNew, start + numNew == r.numTokens());
    }

    private int lowestPriority(int from) {
        int best = from;
        for (int j = from + 1; j < running.size(); j++) {
            Request a = running.get(j), b = running.get(best);
            if (a.priority() > b.priority() || (a.priority() == b.priority() && a.arrival() > b.arrival())) best = j;
        }
        return best;
    }

    private void preempt(Request victim) {
        kv.free(victim.id());
        victim.numComputedTokens = 0;
        victim.status = RequestStatus.PREEMPTED;
        waiting.addFirst(victim);
        preemptions++;
    }
}
