package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.EngineStats;
import ai.arbor.gpu.protocol.FinishReason;
import ai.arbor.gpu.protocol.RequestOutput;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.protocol.KvEvent;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What any model and backend must satisfy inside the engine: batching, prefix caching, preemption and cancellation
 * never change a request's tokens, and no KV block leaks. Subclasses supply the model.
 */
abstract class EngineBehaviourTests {
    static final int BS = 4;

    /** A fresh engine; the whole test class shares nothing else. */
    abstract LLMEngine engine(EngineConfig config);

    /** Prompts of different lengths, at least four, the longest over three blocks of {@link #BS}. */
    abstract List<int[]> prompts();

    /** The EOS token ids the engine was given. */
    abstract int[] eos();

    static EngineConfig config(int numKvBlocks, int maxNumSeqs, int maxNumBatchedTokens, boolean prefixCaching) {
        return new EngineConfig(BS, numKvBlocks, maxNumSeqs, maxNumBatchedTokens, 0, prefixCaching, 0);
    }

    static SamplingParams greedy(int maxTokens) { return SamplingParams.greedy(maxTokens); }

    static SamplingParams greedyIgnoringEos(int maxTokens) {
        return new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, maxTokens, 0, true, new int[0], List.of(), null);
    }

    /** Submits all requests at once and steps until the engine is idle. */
    static Map<String, Collector> run(LLMEngine engine, List<EngineRequest> requests) {
        Map<String, Collector> out = new LinkedHashMap<>();
        for (EngineRequest r : requests) {
            Collector c = new Collector();
            out.put(r.requestId(), c);
            engine.addRequest(r, c);
        }
        drain(engine);
        return out;
    }

    static void drain(LLMEngine engine) {
        for (int i = 0; engine.hasWork(); i++) {
            if (i > 100_000) fail("engine did not finish");
            engine.step();
        }
    }

    static int[] solo(LLMEngine engine, int[] prompt, SamplingParams p) {
        return run(engine, List.of(new EngineRequest("solo", prompt, p))).get("solo").tokenArray();
    }

    private List<int[]> soloRuns(SamplingParams p) {
        List<int[]> expected = new ArrayList<>();
        for (int[] prompt : prompts()) {
            LLMEngine e = engine(config(256, 8, 256, false));
            expected.add(solo(e, prompt, p));
            e.close();
        }
        return expected;
    }

    private static List<EngineRequest> requests(List<int[]> prompts, SamplingParams p) {
        List<EngineRequest> rs = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) rs.add(new EngineRequest("r" + i, prompts.get(i), p));
        return rs;
    }

    @Test
    void aBatchGivesTheSameTokensAsOneAtATime() {
        SamplingParams p = greedyIgnoringEos(12);
        List<int[]> expected = soloRuns(p);
        // A small token budget forces chunked prefills of the long prompts next to decodes of the short ones.
        LLMEngine e = engine(config(256, 8, 7, true));
        Map<String, Collector> got = run(e, requests(prompts(), p));
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), got.get("r" + i).tokenArray(), "request r" + i);
            assertEquals(FinishReason.LENGTH, got.get("r" + i).last.finishReason());
        }
        assertEquals(e.numKvBlocks(), e.numFreeKvBlocks(), "all blocks free after every request ended");
        e.close();
    }

    @Test
    void aPrefixCacheHitGivesTheSameTokensAsAColdRun() {
        SamplingParams p = greedyIgnoringEos(10);
        int[] prompt = longest();
        LLMEngine cold = engine(config(256, 8, 256, false));
        int[] expected = solo(cold, prompt, p);
        cold.close();

        LLMEngine e = engine(config(256, 8, 256, true));
        Collector first = run(e, List.of(new EngineRequest("a", prompt, p))).get("a");
        assertEquals(0, first.last.cachedTokens());
        Collector second = run(e, List.of(new EngineRequest("b", prompt, p))).get("b");
        assertArrayEquals(expected, first.tokenArray());
        assertArrayEquals(expected, second.tokenArray());
        int fullBlocks = (prompt.length - 1) / BS;
        assertEquals(fullBlocks * BS, second.last.cachedTokens());
        assertTrue(second.last.cachedTokens() > 0);
        assertEquals(prompt.length, second.last.promptTokens());
        assertEquals(10, second.last.outputTokens());
        EngineStats s = e.stats();
        assertEquals(2L * prompt.length, s.prefixCacheQueries());
        assertEquals(second.last.cachedTokens(), s.prefixCacheHits());

        // The cache also holds generated tokens: continuing the first answer hits more than the prompt.
        int[] continued = concat(prompt, first.tokenArray());
        Collector third = run(e, List.of(new EngineRequest("c", continued, p))).get("c");
        assertTrue(third.last.cachedTokens() > second.last.cachedTokens());
        LLMEngine cold2 = engine(config(256, 8, 256, false));
        assertArrayEquals(solo(cold2, continued, p), third.tokenArray());
        cold2.close();
        assertEquals(e.numKvBlocks(), e.numFreeKvBlocks());
        e.close();
    }

    @Test
    void preemptionDoesNotChangeOutputsAndLeaksNoBlocks() {
        SamplingParams p = greedyIgnoringEos(16);
        List<int[]> expected = soloRuns(p);
        // Room for the longest request alone plus a little: the others must be preempted as they grow.
        LLMEngine e = engine(config(tightBlocks(16), 8, 256, true));
        Map<String, Collector> got = run(e, requests(prompts(), p));
        assertTrue(e.stats().preemptions() > 0, "the test should force preemption");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), got.get("r" + i).tokenArray(), "request r" + i);
        }
        assertEquals(e.numKvBlocks(), e.numFreeKvBlocks());
        e.close();
    }

    @Test
    void cancellationEndsOneRequestOnlyAndFreesItsBlocks() {
        SamplingParams p = greedyIgnoringEos(12);
        List<int[]> expected = soloRuns(p);
        LLMEngine e = engine(config(256, 8, 256, true));
        Map<String, Collector> got = new LinkedHashMap<>();
        List<EngineRequest> rs = requests(prompts(), p);
        for (EngineRequest r : rs) {
            Collector c = new Collector();
            got.put(r.requestId(), c);
            e.addRequest(r, c);
        }
        e.step();
        e.step();
        e.step();
        e.abort("r1");
        drain(e);
        Collector aborted = got.get("r1");
        assertEquals(FinishReason.ABORT, aborted.last.finishReason());
        assertTrue(aborted.tokens.size() < 12);
        for (int i = 0; i < expected.size(); i++) {
            if (i == 1) continue;
            assertArrayEquals(expected.get(i), got.get("r" + i).tokenArray(), "request r" + i);
        }
        assertEquals(e.numKvBlocks(), e.numFreeKvBlocks());
        e.abort("no-such-request"); // harmless
        drain(e);
        e.close();
    }

    @Test
    void stopConditions() {
        int[] prompt = prompts().get(0);
        LLMEngine e = engine(config(256, 8, 256, true));
        int[] free = solo(e, prompt, greedyIgnoringEos(12));
        int stopAt = 4;
        int stopToken = free[stopAt];
        int firstOccurrence = indexOf(free, stopToken);

        SamplingParams stopTok = new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 12, 0, true, new int[] {stopToken}, List.of(), null);
        Collector c = run(e, List.of(new EngineRequest("s", prompt, stopTok))).get("s");
        assertEquals(FinishReason.STOP, c.last.finishReason());
        assertArrayEquals(java.util.Arrays.copyOf(free, firstOccurrence + 1), c.tokenArray(), "stops on and includes the stop token");

        // min_tokens masks the stop token until then: the output then differs from the free run, and is longer.
        SamplingParams minTok = new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 12, firstOccurrence + 2, true,
                new int[] {stopToken}, List.of(), null);
        Collector m = run(e, List.of(new EngineRequest("m", prompt, minTok))).get("m");
        int[] mt = m.tokenArray();
        assertTrue(mt.length >= firstOccurrence + 2, "min_tokens honoured");
        for (int i = 0; i < firstOccurrence + 2; i++) assertNotEquals(stopToken, mt[i], "stop token before min_tokens at " + i);

        Collector len = run(e, List.of(new EngineRequest("l", prompt, greedyIgnoringEos(3)))).get("l");
        assertEquals(FinishReason.LENGTH, len.last.finishReason());
        assertEquals(3, len.last.outputTokens());
        assertEquals(3, len.outputs.size(), "one output per step");
        assertTrue(len.outputs.subList(0, 2).stream().noneMatch(RequestOutput::finished));
        e.close();
    }

    @Test
    void eosEndsARequestUnlessIgnored() {
        int[] eos = eos();
        LLMEngine e = engine(config(256, 8, 256, true));
        int checked = 0;
        for (int[] prompt : prompts()) {
            int[] free = solo(e, prompt, greedyIgnoringEos(24));
            int at = -1;
            for (int i = 0; i < free.length && at < 0; i++) if (contains(eos, free[i])) at = i;
            if (at < 0) continue;
            Collector c = run(e, List.of(new EngineRequest("e", prompt, greedy(24)))).get("e");
            assertEquals(FinishReason.STOP, c.last.finishReason());
            assertArrayEquals(java.util.Arrays.copyOf(free, at + 1), c.tokenArray());
            assertEquals(at + 1, c.last.outputTokens());

            SamplingParams minTokens = new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, at + 6, at + 3, false, new int[0],
                    List.of(), null);
            int[] longer = run(e, List.of(new EngineRequest("m", prompt, minTokens))).get("m").tokenArray();
            assertTrue(longer.length >= at + 3, "min_tokens keeps EOS away: " + java.util.Arrays.toString(longer));
            for (int i = 0; i < at + 3; i++) assertFalse(contains(eos, longer[i]), "EOS before min_tokens at " + i);
            checked++;
        }
        assertTrue(checked > 0, "no prompt produced EOS within 24 tokens: pick other prompts");
        e.close();
    }

    @Test
    void rejectsPromptsLongerThanTheModelAllows() {
        LLMEngine e = engine(new EngineConfig(BS, 64, 8, 256, 32, true, 0));
        assertEquals(32, e.maxModelLen());
        int[] tooLong = new int[40];
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> e.addRequest(new EngineRequest("x", tooLong, greedy(4)), new Collector()));
        assertTrue(ex.getMessage().contains("40") && ex.getMessage().contains("32"), ex.getMessage());
        assertFalse(e.hasWork());

        // A request may not grow past the limit either.
        int[] prompt = java.util.Arrays.copyOf(longest(), Math.min(longest().length, 28));
        Collector c = run(e, List.of(new EngineRequest("y", prompt, greedyIgnoringEos(100)))).get("y");
        assertEquals(FinishReason.LENGTH, c.last.finishReason());
        assertEquals(32, prompt.length + c.tokens.size());
        e.close();
    }

    @Test
    void kvEventsAreNumberedFromZeroAndDescribeStoredAndRemovedBlocks() {
        LLMEngine e = engine(config(tightBlocks(6), 8, 256, true));
        List<KvEvent> events = new ArrayList<>();
        e.addKvEventListener(events::addAll);
        run(e, requests(prompts(), greedyIgnoringEos(6)));
        assertFalse(events.isEmpty());
        for (int i = 0; i < events.size(); i++) assertEquals(i, events.get(i).eventId());
        KvEvent.BlockStored first = (KvEvent.BlockStored) events.get(0);
        assertNull(first.parentBlockHash());
        assertEquals(BS, first.blockSize());
        assertEquals(first.blockHashes().length * BS, first.tokenIds().length);
        assertTrue(events.stream().anyMatch(ev -> ev instanceof KvEvent.BlockRemoved),
                "a cache that barely holds the longest request must evict for the others");
        assertTrue(e.resetPrefixCache());
        assertInstanceOf(KvEvent.AllBlocksCleared.class, events.get(events.size() - 1));
        e.close();
    }

    @Test
    void seededSamplingIsReproducibleAlsoInABatch() {
        SamplingParams p = new SamplingParams(1.0, 0.95, 40, 0, 42L, 0, 0, 1, 10, 0, true, new int[0], List.of(), 3);
        int[] prompt = prompts().get(1);
        LLMEngine a = engine(config(256, 8, 256, true));
        Collector alone = run(a, List.of(new EngineRequest("s", prompt, p))).get("s");
        a.close();
        LLMEngine b = engine(config(256, 8, 256, true));
        List<EngineRequest> rs = new ArrayList<>(requests(prompts(), greedyIgnoringEos(8)));
        rs.add(new EngineRequest("s", prompt, p));
        Collector batched = run(b, rs).get("s");
        assertArrayEquals(alone.tokenArray(), batched.tokenArray());
        for (RequestOutput o : batched.outputs) {
            assertEquals(1, o.logprobs().size());
            assertEquals(3, o.logprobs().get(0).topTokenIds().length);
            assertEquals(o.newTokenIds()[0], o.logprobs().get(0).tokenId());
        }
        b.close();
    }

    @Test
    void statsCountRunningWaitingAndBlocks() {
        LLMEngine e = engine(config(256, 2, 256, true));
        List<EngineRequest> rs = requests(prompts(), greedyIgnoringEos(4));
        for (EngineRequest r : rs) e.addRequest(r, new Collector());
        assertEquals(rs.size(), e.stats().waitingRequests(), "queued requests count as waiting");
        assertTrue(e.hasWork());
        e.step();
        EngineStats s = e.stats();
        assertEquals(2, s.runningRequests(), "maxNumSeqs caps the batch");
        assertEquals(rs.size() - 2, s.waitingRequests());
        assertEquals(2, s.lastBatchSize());
        assertTrue(s.kvBlocksActive() > 0);
        assertEquals(256, s.kvBlocksTotal());
        assertEquals(1, s.steps());
        drain(e);
        s = e.stats();
        assertEquals(0, s.runningRequests() + s.waitingRequests());
        assertEquals(0, s.kvBlocksActive());
        assertEquals(4L * rs.size(), s.generatedTokens());
        long promptTotal = 0;
        for (int[] p : prompts()) promptTotal += p.length;
        assertEquals(promptTotal, s.promptTokens());
        assertFalse(e.hasWork());
        e.close();
    }

    /** Blocks for the longest prompt plus {@code maxTokens} and two more: too few to hold every request at once. */
    int tightBlocks(int maxTokens) {
        return (longest().length + maxTokens + BS - 1) / BS + 2;
    }

    int[] longest() {
        int[] best = prompts().get(0);
        for (int[] p : prompts()) if (p.length > best.length) best = p;
        return best;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static int indexOf(int[] a, int x) {
        for (int i = 0; i < a.length; i++) if (a[i] == x) return i;
        return -1;
    }

    static boolean contains(int[] a, int x) { return indexOf(a, x) >= 0; }
}
