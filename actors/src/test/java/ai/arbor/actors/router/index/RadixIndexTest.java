package ai.arbor.actors.router.index;

import ai.arbor.actors.kvevents.BlockEvent;
import ai.arbor.actors.kvevents.BlockEvent.Cleared;
import ai.arbor.actors.kvevents.BlockEvent.Removed;
import ai.arbor.gpu.protocol.KvEvent.BlockStored;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RadixIndexTest {
    static final int BS = 4;

    /** Tokens of {@code blocks} blocks whose content is determined by {@code seed} and the block number. */
    static int[] tokens(int seed, int blocks) {
        int[] t = new int[blocks * BS];
        for (int i = 0; i < t.length; i++) t[i] = seed * 1000 + i;
        return t;
    }

    static long[] engineHashes(long base, int n) {
        long[] h = new long[n];
        for (int i = 0; i < n; i++) h[i] = base + i;
        return h;
    }

    /** A stored event in its wire form, as a worker publishes it. */
    static BlockEvent stored(long eventId, Long parent, long[] hashes, int[] tokens) {
        return BlockEvent.fromEngine(new BlockStored(eventId, parent, hashes, tokens, BS));
    }

    @Test
    void storedBlocksMatchTheRequestPrefix() {
        RadixIndex index = new RadixIndex(BS);
        int[] prompt = tokens(1, 5);
        assertEquals(ApplyResult.APPLIED, index.apply(7, stored(0, null, engineHashes(100, 3), slice(prompt, 0, 3))));
        OverlapScores s = index.findMatchesForTokens(prompt);
        assertEquals(3, s.depth(7));
        assertEquals(5, s.requestBlocks());
        assertEquals(0, s.depth(8));
        assertEquals(3, index.nodeCount());
        assertEquals(3, index.blockCount(7));
    }

    @Test
    void workersSharingAPrefixEachGetTheirOwnDepth() {
        RadixIndex index = new RadixIndex(BS);
        int[] prompt = tokens(1, 4);
        index.apply(1, stored(0, null, engineHashes(10, 4), prompt));
        index.apply(2, stored(0, null, engineHashes(50, 2), slice(prompt, 0, 2)));
        int[] divergent = TokenBlockHasherTest.concat(slice(prompt, 0, 2), tokens(9, 2));
        index.apply(3, stored(0, null, engineHashes(90, 4), divergent));
        OverlapScores s = index.findMatchesForTokens(prompt);
        assertEquals(4, s.depth(1));
        assertEquals(2, s.depth(2));
        assertEquals(2, s.depth(3));
        assertEquals(6, index.nodeCount(), "2 shared + 2 + 2 divergent nodes");
        // a prompt with a different first block matches nobody
        assertEquals(0, index.findMatchesForTokens(tokens(5, 3)).size());
    }

    @Test
    void chainedStoresUseTheParentEngineHashAndEnginesMayHashDifferently() {
        RadixIndex index = new RadixIndex(BS);
        int[] prompt = tokens(3, 4);
        index.apply(1, stored(0, null, new long[]{111, 222}, slice(prompt, 0, 2)));
        index.apply(1, stored(1, 222L, new long[]{333, 444}, slice(prompt, 2, 4)));
        // worker 2's engine uses completely different hashes for the same tokens
        index.apply(2, stored(0, null, new long[]{-5, 987654321, 42, 43}, prompt));
        OverlapScores s = index.findMatchesForTokens(prompt);
        assertEquals(4, s.depth(1));
        assertEquals(4, s.depth(2));
        assertEquals(4, index.nodeCount(), "same tokens land on the same nodes whatever the engine hashes");
    }

    @Test
    void storeUnderAnUnknownParentIsSkippedAndCounted() {
        RadixIndex index = new RadixIndex(BS);
        index.apply(1, stored(0, 999L, new long[]{1}, tokens(1, 1)));
        assertEquals(1, index.orphanStores());
        assertEquals(0, index.blockCount(1));
        assertEquals(0, index.nodeCount());
    }

    @Test
    void removingAMiddleBlockCutsTheMatchAndPrunesNothingStillHeld() {
        RadixIndex index = new RadixIndex(BS);
        int[] prompt = tokens(1, 4);
        index.apply(1, stored(0, null, engineHashes(10, 4), prompt));
        index.apply(2, stored(0, null, engineHashes(20, 4), prompt));
        index.apply(1, new Removed(1, new long[]{11, 13}));
        OverlapScores s = index.findMatchesForTokens(prompt);
        assertEquals(1, s.depth(1));
        assertEquals(4, s.depth(2));
        assertEquals(4, index.nodeCount());
        index.apply(2, new Removed(1, new long[]{23, 22}));
        assertEquals(2, index.findMatchesForTokens(prompt).depth(2));
        // block 2 (worker 1's engine hash 12) is still held, block 3 by nobody: pruned
        assertEquals(3, index.nodeCount());
    }

    @Test
    void clearedAndRemovedWorkersLeaveNoNodesBehind() {
        RadixIndex index = new RadixIndex(BS);
        index.apply(1, stored(0, null, engineHashes(10, 3), tokens(1, 3)));
        index.apply(2, stored(0, null, engineHashes(20, 3), tokens(2, 3)));
        index.apply(1, new Cleared(1));
        assertEquals(0, index.blockCount(1));
        assertEquals(3, index.nodeCount());
        assertEquals(1, index.lastEventId(1));
        assertTrue(index.removeWorker(2));
        assertFalse(index.removeWorker(2));
        assertEquals(0, index.nodeCount());
        assertEquals(List.of(1L), index.workerIds());
        // the freed slot is reused without inheriting anything
        index.apply(3, stored(0, null, engineHashes(30, 1), tokens(2, 1)));
        OverlapScores s = index.findMatchesForTokens(tokens(2, 3));
        assertEquals(1, s.depth(3));
        assertEquals(1, s.size());
    }

    @Test
    void aBlockStoredUnderTwoEngineHashesStaysUntilBothAreRemoved() {
        RadixIndex index = new RadixIndex(BS);
        int[] prompt = tokens(5, 2);
        index.apply(1, stored(0, null, engineHashes(10, 2), prompt));
        // the same tokens again under other engine hashes (another LoRA adapter, say)
        index.apply(1, stored(1, null, engineHashes(20, 2), prompt));
        assertEquals(4, index.blockCount(1));
        assertEquals(2, index.nodeCount());
        index.apply(1, new Removed(2, new long[]{11}));
        assertEquals(2, index.findMatchesForTokens(prompt).depth(1), "block 2 is still held under engine hash 21");
        // a snapshot taken now restores to the same index
        RadixIndex restored = RadixIndex.restore(index.snapshot());
        assertEquals(index.content(), restored.content());
        for (RadixIndex i : List.of(index, restored)) {
            i.apply(1, new Removed(3, new long[]{21}));
            assertEquals(1, i.findMatchesForTokens(prompt).depth(1));
            assertEquals(1, i.nodeCount());
            i.apply(1, new Removed(4, new long[]{10}));
            assertEquals(1, i.findMatchesForTokens(prompt).depth(1), "block 1 is still held under engine hash 20");
            i.apply(1, new Cleared(5));
            assertEquals(0, i.findMatchesForTokens(prompt).size());
            assertEquals(0, i.nodeCount());
        }
    }

    @Test
    void repeatedEventsAreIgnoredAndGapsDropTheWorkersBlocks() {
        RadixIndex index = new RadixIndex(BS);
        index.apply(1, stored(0, null, engineHashes(10, 2), tokens(1, 2)));
        assertEquals(ApplyResult.DUPLICATE, index.apply(1, new Removed(0, new long[]{10})));
        assertEquals(2, index.blockCount(1));
        // event 1 is missing: its removals are unknown, so everything older is dropped
        assertEquals(ApplyResult.GAP, index.apply(1, stored(2, null, engineHashes(50, 1), tokens(7, 1))));
        assertEquals(1, index.blockCount(1));
        assertEquals(0, index.findMatchesForTokens(tokens(1, 2)).depth(1));
        assertEquals(1, index.findMatchesForTokens(tokens(7, 1)).depth(1));
        assertEquals(1, index.gaps());
        assertEquals(1, index.duplicateEvents());
    }

    @Test
    void malformedEventsAreRejectedWithTheReason() {
        RadixIndex index = new RadixIndex(BS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> index.apply(1, new BlockEvent.Stored(0, null, new long[]{1}, new long[]{9}, 16)));
        assertTrue(e.getMessage().contains("block size 16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> index.apply(1, new BlockEvent.Stored(0, null, new long[]{1, 2}, new long[]{9}, BS)));
        assertTrue(e.getMessage().contains("2 block hashes but 1 local hashes"), e.getMessage());
        assertEquals(-1, index.lastEventId(1), "a rejected event does not advance the worker");
    }

    @Test
    void manyWorkersBeyondOneBitsetWord() {
        RadixIndex index = new RadixIndex(BS);
        int[] prompt = tokens(1, 8);
        for (int w = 0; w < 150; w++) {
            int blocks = 1 + w % 8;
            index.apply(w, stored(0, null, engineHashes(w * 100L, blocks), slice(prompt, 0, blocks)));
        }
        OverlapScores s = index.findMatchesForTokens(prompt);
        assertEquals(150, s.size());
        for (int w = 0; w < 150; w++) assertEquals(1 + w % 8, s.depth(w), "worker " + w);
        // the bits beyond the first word survive a snapshot, and a removed worker's stay clear
        index.removeWorker(3);
        RadixIndex restored = RadixIndex.restore(index.snapshot());
        assertEquals(index.content(), restored.content());
        assertEquals(index.findMatchesForTokens(prompt), restored.findMatchesForTokens(prompt));
        assertEquals(149, restored.findMatchesForTokens(prompt).size());
    }

    @Test
    void snapshotRestoresAnIndexThatStaysIdentical() {
        RadixIndex live = new RadixIndex(BS);
        Random rnd = new Random(3);
        Workload load = new Workload(live, rnd, 12);
        for (int i = 0; i < 3000; i++) load.step();
        byte[] bytes = live.snapshot();
        RadixIndex restored = RadixIndex.restore(bytes);
        assertEquals(live.content(), restored.content());
        assertEquals(live.nodeCount(), restored.nodeCount());
        assertEquals(bytes.length, restored.snapshot().length);
        // both keep evolving identically
        Workload same = load.mirror(restored);
        for (int i = 0; i < 3000; i++) same.step();
        assertEquals(live.content(), restored.content());
        for (int p = 0; p < 40; p++) {
            int[] prompt = tokens(rnd.nextInt(30), 1 + rnd.nextInt(10));
            assertEquals(live.findMatchesForTokens(prompt), restored.findMatchesForTokens(prompt));
        }
        assertThrows(IllegalArgumentException.class, () -> RadixIndex.restore(new byte[]{1, 2, 3, 4, 5, 6, 7, 8}));
        assertThrows(IllegalArgumentException.class, () -> RadixIndex.restore(java.util.Arrays.copyOf(bytes, bytes.length - 3)));
    }

    @Test
    void matchesAgreeWithABruteForceModel() {
        RadixIndex index = new RadixIndex(BS);
        Random rnd = new Random(11);
        Workload load = new Workload(index, rnd, 6);
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 200; i++) load.step();
            for (int p = 0; p < 30; p++) {
                int[] prompt = tokens(rnd.nextInt(30), 1 + rnd.nextInt(10));
                long[] local = index.hasher().localHashes(prompt);
                long[] seq = TokenBlockHasher.sequenceHashes(local);
                OverlapScores s = index.findMatches(local);
                for (long w = 0; w < 6; w++) {
                    var held = index.content().get(w);
                    int expected = 0;
                    if (held != null) {
                        var seqs = new java.util.HashSet<>(held.engineHashToSequenceHash().values());
                        while (expected < seq.length && seqs.contains(seq[expected])) expected++;
                    }
                    assertEquals(expected, s.depth(w), "worker " + w + " prompt " + java.util.Arrays.toString(prompt));
                }
            }
        }
    }

    /** Random stores (prefixes of a few sequences, chained through parents), removals and clears across workers. */
    static final class Workload {
        final RadixIndex index;
        final Random rnd;
        final int workers;
        final long[] nextEvent;
        final List<List<Long>> held = new ArrayList<>();
        final List<Object[]> log;
        int replayPos = -1;

        Workload(RadixIndex index, Random rnd, int workers) {
            this.index = index;
            this.rnd = rnd;
            this.workers = workers;
            this.nextEvent = new long[workers];
            for (int i = 0; i < workers; i++) held.add(new ArrayList<>());
            this.log = new ArrayList<>();
        }

        /** A second workload that replays exactly the events this one generates from now on. */
        Workload mirror(RadixIndex other) {
            Workload m = new Workload(other, rnd, workers);
            m.replayPos = log.size();
            m.log.addAll(log);
            m.source = this;
            return m;
        }

        Workload source;

        void step() {
            if (source != null) {
                source.step();
                Object[] e = source.log.get(source.log.size() - 1);
                index.apply((Long) e[0], (BlockEvent) e[1]);
                return;
            }
            int w = rnd.nextInt(workers);
            long id = nextEvent[w]++;
            BlockEvent ev;
            int r = rnd.nextInt(100);
            List<Long> mine = held.get(w);
            if (r < 60) {
                int seed = rnd.nextInt(30);
                int blocks = 1 + rnd.nextInt(10);
                int[] t = tokens(seed, blocks);
                // engine hash: worker-specific function of (seed, block index), like a real engine's chained hash
                int from = rnd.nextInt(blocks);
                Long parent = from == 0 ? null : engineHash(w, seed, from - 1);
                long[] hashes = new long[blocks - from];
                for (int b = from; b < blocks; b++) hashes[b - from] = engineHash(w, seed, b);
                ev = stored(id, parent, hashes, slice(t, from, blocks));
                for (long h : hashes) if (!mine.contains(h)) mine.add(h);
            } else if (r < 97 && !mine.isEmpty()) {
                int n = 1 + rnd.nextInt(Math.min(3, mine.size()));
                long[] gone = new long[n];
                for (int i = 0; i < n; i++) gone[i] = mine.remove(rnd.nextInt(mine.size()));
                ev = new Removed(id, gone);
            } else {
                mine.clear();
                ev = new Cleared(id);
            }
            log.add(new Object[]{(long) w, ev});
            index.prefetch(w, List.of(ev)); // the router warms the cache first; that must change nothing
            index.apply(w, ev);
        }

        static long engineHash(int worker, int seed, int block) {
            return (worker + 1) * 1_000_003L * 31 + seed * 1009L + block * 7L + 1;
        }
    }

    static int[] slice(int[] tokens, int fromBlock, int toBlock) {
        return java.util.Arrays.copyOfRange(tokens, fromBlock * BS, toBlock * BS);
    }
}
