package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.EngineRequest;
import static ai.arbor.gpu.engine.EngineBehaviourTests.greedyIgnoringEos;
import static ai.arbor.gpu.engine.EngineBehaviourTests.run;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.protocol.KvEvent;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The host KV tier on the tiny Qwen2 model and the real CPU backend: blocks pushed out of a small primary pool come
 * back from host memory on a repeated prefix, with the same greedy tokens as computing them, and the two event streams
 * (primary pool, reachable set) stay true to what each tier holds.
 */
class HostKvTierEngineTest {
    private static final int BS = 4;
    private static final int PRIMARY_BLOCKS = 24;

    private static EngineConfig config(long hostBytes) {
        return new EngineConfig(BS, PRIMARY_BLOCKS, 4, 256, 0, true, 0, hostBytes);
    }

    private static int[] prompt(long seed, int length) {
        Random r = new Random(seed);
        int vocab = TinyModels.model("tiny-qwen2").config().vocabSize();
        int[] p = new int[length];
        for (int i = 0; i < length; i++) p[i] = 1 + r.nextInt(vocab - 1);
        return p;
    }

    private static Collector once(LLMEngine e, String id, int[] prompt) {
        return run(e, List.of(new EngineRequest(id, prompt, greedyIgnoringEos(6)))).get(id);
    }

    /** Pushes every block of earlier prompts out of the primary pool with unrelated prompts as long as the pool. */
    private static void flood(LLMEngine e, long seed) { flood(e, seed, 3); }

    private static void flood(LLMEngine e, long seed, int prompts) {
        for (int i = 0; i < prompts; i++) once(e, "flood-" + seed + "-" + i, prompt(seed + i, PRIMARY_BLOCKS * BS - 8));
    }

    @Test
    void aPrefixPushedOutOfThePrimaryPoolComesBackFromHostMemory() {
        int[] shared = prompt(1, 40);
        LLMEngine e = TinyModels.engine("tiny-qwen2", config(64L << 20));
        assertTrue(e.hasHostKvTier());
        Collector first = once(e, "first", shared);
        assertEquals(0, first.last.cachedTokens());
        flood(e, 100);
        assertTrue(e.stats().hostKvBlocks() > 0, "evicted blocks went to the host tier");

        Collector again = once(e, "again", shared);
        EngineStats s = e.stats();
        assertArrayEquals(first.tokenArray(), again.tokenArray(), "blocks restored from host give the same tokens");
        // 40 tokens = 10 blocks; the last block holds the last prompt token, which is always computed
        assertEquals(36, again.last.cachedTokens(), "the whole cacheable prefix was a hit");
        assertTrue(s.onboardedHostBlocks() >= 9, "onboarded " + s.onboardedHostBlocks());
        assertEquals(e.numKvBlocks(), e.numFreeKvBlocks());
        e.close();

        LLMEngine without = TinyModels.engine("tiny-qwen2", config(0));
        assertFalse(without.hasHostKvTier());
        once(without, "first", shared);
        flood(without, 100);
        Collector recomputed = once(without, "again", shared);
        assertEquals(0, recomputed.last.cachedTokens(), "without the tier the prefix is computed again");
        assertArrayEquals(first.tokenArray(), recomputed.tokenArray());
        assertEquals(0, without.stats().onboardedHostBlocks());
        without.close();
    }

    @Test
    void eventStreamsSayWhichTierHoldsABlock() {
        // room for 40 host blocks: the flood's 3 x 22 blocks overflow it, so the LRU drops some blocks for good
        LLMEngine e = TinyModels.engine("tiny-qwen2", config(40 * blockBytes()));
        Set<Long> primary = new HashSet<>();
        Set<Long> reachable = new HashSet<>();
        e.addKvEventListener(events -> apply(primary, events));
        e.addReachableKvEventListener(events -> apply(reachable, events));
        int[] shared = prompt(7, 40);
        once(e, "first", shared);
        Set<Long> firstBlocks = new HashSet<>(primary);
        assertEquals(primary, reachable, "before any eviction both streams hold the same blocks");
        flood(e, 200);
        assertTrue(reachable.containsAll(primary), "every primary block is reachable");
        Set<Long> hostOnly = new HashSet<>(reachable);
        hostOnly.removeAll(primary);
        assertEquals(e.stats().hostKvBlocks(), hostOnly.size(), "reachable minus primary is what the host tier holds");
        assertEquals(40, hostOnly.size(), "the tier is full");
        assertTrue(reachable.size() < firstBlocks.size() + 3 * 22, "blocks pushed out of the full tier left the reachable set");

        flood(e, 300); // now the first prompt's blocks are the least recently used host blocks: they are dropped
        assertTrue(firstBlocks.stream().noneMatch(reachable::contains));
        once(e, "again", shared);
        flood(e, 400, 1); // one pool's worth: the prefix moves to host and stays there
        Collector third = once(e, "third", shared);
        assertEquals(36, third.last.cachedTokens(), "the prefix came back from host once more");
        Set<Long> back = new HashSet<>(firstBlocks);
        back.retainAll(primary);
        assertFalse(back.isEmpty(), "onboarded blocks are announced in the primary stream again");
        hostOnly = new HashSet<>(reachable);
        hostOnly.removeAll(primary);
        assertEquals(e.stats().hostKvBlocks(), hostOnly.size());
        assertTrue(e.resetPrefixCache());
        assertTrue(primary.isEmpty());
        assertTrue(reachable.isEmpty());
        assertEquals(0, e.stats().hostKvBlocks());
        e.close();
    }

    private static long blockBytes() {
        var c = TinyModels.model("tiny-qwen2").config();
        return (long) BS * c.numLayers() * 2 * c.kvDim() * Float.BYTES;
    }

    private static void apply(Set<Long> blocks, List<KvEvent> events) {
        for (KvEvent ev : events) {
            if (ev instanceof KvEvent.BlockStored s) {
                for (long h : s.blockHashes()) blocks.add(h);
            } else if (ev instanceof KvEvent.BlockRemoved r) {
                for (long h : r.blockHashes()) assertTrue(blocks.remove(h), "removed a block it never stored");
            } else {
                blocks.clear();
            }
        }
    }
}
