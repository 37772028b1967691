package ai.arbor.gpu.sched;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.kv.KvCacheManager;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulerTest {
    private static final int BS = 4;
    private long arrivals;

    private Request request(String id, int promptLen, int base) {
        int[] p = new int[promptLen];
        for (int i = 0; i < promptLen; i++) p[i] = base + i;
        return new Request(new EngineRequest(id, p, SamplingParams.greedy(100)), out -> {}, arrivals++);
    }

    /** What the engine does after a forward pass: mark computed, append a token to rows with logits. */
    private static void complete(Scheduler s, SchedulerOutput out) {
        s.onForwardDone(out);
        for (ScheduledChunk c : out.chunks()) if (c.wantLogits()) c.request().appendToken(7);
    }

    private static ScheduledChunk chunkOf(SchedulerOutput out, Request r) {
        return out.chunks().stream().filter(c -> c.request() == r).findFirst().orElse(null);
    }

    @Test
    void longPromptsArePrefilledInChunksWithinTheTokenBudget() {
        KvCacheManager kv = new KvCacheManager(64, BS, true);
        Scheduler s = new Scheduler(kv, 8, 10);
        Request a = request("a", 25, 0);
        s.add(a);
        SchedulerOutput o1 = s.schedule();
        assertEquals(List.of(new ScheduledChunk(a, 0, 10, false)), o1.chunks());
        complete(s, o1);
        SchedulerOutput o2 = s.schedule();
        assertEquals(new ScheduledChunk(a, 10, 10, false), o2.chunks().get(0));
        complete(s, o2);
        SchedulerOutput o3 = s.schedule();
        assertEquals(new ScheduledChunk(a, 20, 5, true), o3.chunks().get(0));
        complete(s, o3);
        assertEquals(26, a.numTokens());
        SchedulerOutput o4 = s.schedule();
        assertEquals(new ScheduledChunk(a, 25, 1, true), o4.chunks().get(0), "then one decode token per step");
    }

    @Test
    void runningRequestsComeFirstAndWaitingOnesFillTheRest() {
        KvCacheManager kv = new KvCacheManager(64, BS, true);
        Scheduler s = new Scheduler(kv, 8, 8);
        Request a = request("a", 6, 0), b = request("b", 6, 100);
        s.add(a);
        complete(s, s.schedule());
        s.add(b);
        SchedulerOutput o = s.schedule();
        assertEquals(2, o.chunks().size());
        assertEquals(new ScheduledChunk(a, 6, 1, true), o.chunks().get(0));
        assertEquals(new ScheduledChunk(b, 0, 6, true), o.chunks().get(1));
        complete(s, o);
        Request c = request("c", 12, 200);
        s.add(c);
        SchedulerOutput o2 = s.schedule();
        assertEquals(new ScheduledChunk(c, 0, 6, false), o2.chunks().get(2), "c gets what the two decodes leave");
    }

    @Test
    void maxNumSeqsLimitsTheBatch() {
        KvCacheManager kv = new KvCacheManager(64, BS, true);
        Scheduler s = new Scheduler(kv, 2, 100);
        for (int i = 0; i < 3; i++) s.add(request("r" + i, 3, i * 10));
        SchedulerOutput o = s.schedule();
        assertEquals(2, o.chunks().size());
        assertEquals(1, s.numWaiting());
        assertEquals(2, s.numRunning());
    }

    @Test
    void runningOutOfBlocksPreemptsTheLatestArrival() {
        KvCacheManager kv = new KvCacheManager(4, BS, true);
        Scheduler s = new Scheduler(kv, 8, 100);
        Request a = request("a", 8, 0), b = request("b", 8, 100);
        s.add(a);
        s.add(b);
        complete(s, s.schedule()); // 2 blocks each, all 4 used; both now have 9 tokens
        assertEquals(0, kv.numFreeBlocks());
        SchedulerOutput o = s.schedule();
        assertEquals(List.of(b), o.preempted());
        assertEquals(1, o.chunks().size());
        assertEquals(a, o.chunks().get(0).request());
        assertEquals(RequestStatus.PREEMPTED, b.status());
        assertEquals(0, b.numComputedTokens());
        assertEquals(List.of(b), s.waiting());
        assertEquals(1, s.preemptions());
        assertEquals(3, kv.numBlocksHeld("a"));
        complete(s, o);

        // Once a ends, b comes back and starts after its first block, still in the prefix cache: of b's two freed
        // blocks a took the tail one, which the free queue hands out first.
        s.finish(a);
        SchedulerOutput o2 = s.schedule();
        ScheduledChunk cb = chunkOf(o2, b);
        assertNotNull(cb);
        assertEquals(4, cb.startPosition());
        assertEquals(9 - cb.startPosition(), cb.numTokens());
        assertTrue(cb.wantLogits());
        complete(s, o2);
        s.finish(b);
        assertEquals(4, kv.numFreeBlocks(), "no blocks leak");
    }

    @Test
    void prefixHitsAreCountedInTokens() {
        KvCacheManager kv = new KvCacheManager(16, BS, true);
        Scheduler s = new Scheduler(kv, 8, 100);
        Request a = request("a", 10, 0);
        s.add(a);
        complete(s, s.schedule());
        Request b = request("b", 10, 0);
        s.add(b);
        SchedulerOutput o = s.schedule();
        ScheduledChunk cb = chunkOf(o, b);
        assertEquals(8, cb.startPosition());
        assertEquals(8, b.numCachedTokens());
        assertEquals(20, s.prefixCacheQueries());
        assertEquals(8, s.prefixCacheHits());
    }

    @Test
    void finishingAWaitingRequestRemovesIt() {
        KvCacheManager kv = new KvCacheManager(16, BS, true);
        Scheduler s = new Scheduler(kv, 1, 100);
        Request a = request("a", 3, 0), b = request("b", 3, 10);
        s.add(a);
        s.add(b);
        s.schedule();
        s.finish(b);
        assertEquals(0, s.numWaiting());
        assertEquals(RequestStatus.FINISHED, b.status());
    }
}
