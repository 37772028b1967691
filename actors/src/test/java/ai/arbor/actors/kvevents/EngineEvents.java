package ai.arbor.actors.kvevents;

import ai.arbor.gpu.protocol.KvEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Plays one engine's prefix cache for tests: prompts built from a few shared prefixes, stored block by block with the
 * engine's own (deliberately different) hashes, and LRU-ish evictions, numbered from event id 0.
 */
final class EngineEvents {
    final int blockSize;
    final long salt;
    final Random rnd;
    long nextId;
    final List<long[]> cached = new ArrayList<>(); // {engine hash}
    final List<int[]> prompts = new ArrayList<>();

    EngineEvents(int blockSize, long salt, long seed) {
        this.blockSize = blockSize;
        this.salt = salt;
        this.rnd = new Random(seed);
    }

    static int[] prompt(int prefix, int suffix, int prefixBlocks, int suffixBlocks, int blockSize) {
        int[] t = new int[(prefixBlocks + suffixBlocks) * blockSize];
        for (int i = 0; i < prefixBlocks * blockSize; i++) t[i] = 1000 * prefix + i;
        for (int i = prefixBlocks * blockSize; i < t.length; i++) t[i] = 500_000 + 1000 * suffix + i;
        return t;
    }

    /** A stored event for the full blocks of {@code tokens}; engine hashes are a salted chain of the tokens. */
    KvEvent.BlockStored store(int[] tokens) {
        int blocks = tokens.length / blockSize;
        prompts.add(tokens);
        long[] hashes = new long[blocks];
        long h = salt;
        for (int b = 0; b < blocks; b++) {
            for (int i = 0; i < blockSize; i++) h = h * 31 + tokens[b * blockSize + i];
            hashes[b] = h ^ salt;
            cached.add(new long[]{hashes[b]});
        }
        return new KvEvent.BlockStored(nextId++, null, hashes, java.util.Arrays.copyOf(tokens, blocks * blockSize), blockSize);
    }

    /**
     * Asserts that two indexes give {@code worker} the same cached depth for every prompt this engine ever stored (and
     * their first blocks). Content can differ where an evicted middle block left unreachable descendants behind,
     * which no request can match anyway and which a resync does not re-send.
     */
    void assertSameMatches(ai.arbor.actors.router.index.RadixIndex expected, ai.arbor.actors.router.index.RadixIndex actual, long worker) {
        for (int[] p : prompts) {
            for (int len = blockSize; len <= p.length; len += blockSize) {
                int[] q = java.util.Arrays.copyOf(p, len);
                org.junit.jupiter.api.Assertions.assertEquals(expected.findMatchesForTokens(q).depth(worker),
                        actual.findMatchesForTokens(q).depth(worker), "worker " + worker + ", prompt of " + len + " tokens");
            }
        }
    }

    KvEvent.BlockRemoved evict(int n) {
        long[] gone = new long[Math.min(n, cached.size())];
        for (int i = 0; i < gone.length; i++) gone[i] = cached.remove(rnd.nextInt(cached.size()))[0];
        return new KvEvent.BlockRemoved(nextId++, gone);
    }

    /** A random step: mostly stores of shared-prefix prompts, some evictions. */
    KvEvent next() {
        if (cached.size() > 40 && rnd.nextInt(3) == 0) return evict(1 + rnd.nextInt(4));
        return store(prompt(rnd.nextInt(5), rnd.nextInt(1000), 1 + rnd.nextInt(4), 1 + rnd.nextInt(3), blockSize));
    }
}
