package ai.arbor.gpu.engine;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.SequenceChunk;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching under load (issue 13): with up to max-num-seqs sequences decoding, a request that arrives gets
 * its first prefill chunk in the next step, every decoding sequence still gets its token in every step, and no step
 * exceeds the token budget. Where several prompts are ahead of an arrival, the bound is derived from the budget:
 * decodes take at most S - 1 of the B tokens of a step while anything is prefilling (every prefilling request holds a
 * seat), so at least B - S + 1 prompt tokens are scheduled each step, first come first served, and an arrival with Q
 * prompt tokens ahead of it gets its first chunk within floor(Q / (B - S + 1)) + 1 steps. With the defaults (S = 256,
 * B = 2048) that is the next step unless more than 1,792 prompt tokens are ahead.
 */
class TimeToFirstChunkTest {
    private static final int BS = 16;

    /** One request and what the recorded steps say about it; its prompt is its marker token repeated. */
    private static final class Tracked {
        final String id;
        final int marker;
        final int promptLen;
        final Collector sink = new Collector();
        final int arrivedBeforeStep;
        final long promptAhead;
        int scheduledPrompt;
        int firstChunkStep = -1;

        Tracked(String id, int marker, int promptLen, int arrivedBeforeStep, long promptAhead) {
            this.id = id;
            this.marker = marker;
            this.promptLen = promptLen;
            this.arrivedBeforeStep = arrivedBeforeStep;
            this.promptAhead = promptAhead;
        }

        boolean decoding() { return !sink.tokens.isEmpty() && !sink.finished(); }

        boolean prefilling() { return scheduledPrompt < promptLen; }
    }

    /** An engine on the recording backend with these limits, and the requests sent to it. */
    private static final class Load {
        final StepRecordingBackend backend = new StepRecordingBackend();
        final LLMEngine engine;
        final int maxNumSeqs;
        final int budget;
        final Map<Integer, Tracked> byMarker = new HashMap<>();
        final List<Tracked> all = new ArrayList<>();
        final ArrayDeque<Integer> freeMarkers = new ArrayDeque<>();
        int steps;

        Load(int maxNumSeqs, int budget) {
            this.maxNumSeqs = maxNumSeqs;
            this.budget = budget;
            this.engine = new LLMEngine(StepRecordingBackend.MODEL, new int[] {2}, backend,
                    new EngineConfig(BS, 0, maxNumSeqs, budget, 0, false, 0));
            for (int t = StepRecordingBackend.FIRST_PROMPT_TOKEN; t < StepRecordingBackend.VOCAB; t++) freeMarkers.add(t);
        }

        Tracked arrive(int promptLen, int maxTokens) {
            long ahead = 0; // prompt tokens of earlier requests not scheduled yet: first come, first served
            for (Tracked t : byMarker.values()) ahead += t.promptLen - t.scheduledPrompt;
            int marker = freeMarkers.removeFirst();
            Tracked t = new Tracked("r" + all.size(), marker, promptLen, steps, ahead);
            int[] prompt = new int[promptLen];
            java.util.Arrays.fill(prompt, marker);
            engine.addRequest(new EngineRequest(t.id, prompt, SamplingParams.greedy(maxTokens)), t.sink);
            byMarker.put(marker, t);
            all.add(t);
            return t;
        }

        /** One engine step, checked: within the budget and max-num-seqs, and a decode row for every decoding sequence. */
        List<Tracked> step() {
            int decodingBefore = 0;
            for (Tracked t : byMarker.values()) if (t.decoding()) decodingBefore++;
            int recorded = backend.steps.size();
            engine.step();
            assertEquals(recorded + 1, backend.steps.size(), "step " + steps + " ran a forward pass");
            List<SequenceChunk> chunks = backend.lastStep();
            int tokens = 0, decodes = 0;
            for (SequenceChunk c : chunks) {
                tokens += c.tokens().length;
                if (StepRecordingBackend.isDecode(c)) {
                    decodes++;
                    continue;
                }
                Tracked t = byMarker.get(c.tokens()[0]);
                assertNotNull(t, "a prompt chunk of a known request");
                if (c.startPosition() == 0) {
                    assertEquals(-1, t.firstChunkStep, t.id + " starts once");
                    t.firstChunkStep = steps;
                }
                assertEquals(t.scheduledPrompt, c.startPosition(), t.id + "'s chunks follow each other");
                t.scheduledPrompt += c.tokens().length;
            }
            assertTrue(tokens <= budget, "step " + steps + ": " + tokens + " tokens > budget " + budget);
            assertTrue(chunks.size() <= maxNumSeqs, "step " + steps + ": " + chunks.size() + " sequences");
            assertEquals(decodingBefore, decodes, "step " + steps + ": every decoding sequence got its token");
            steps++;
            List<Tracked> finished = new ArrayList<>();
            for (Tracked t : List.copyOf(byMarker.values())) {
                if (t.sink.finished()) {
                    byMarker.remove(t.marker);
                    freeMarkers.addLast(t.marker);
                    finished.add(t);
                }
            }
            return finished;
        }

        /** Steps until every request is decoding (or done). */
        void stepUntilAllDecode() {
            for (int i = 0; byMarker.values().stream().anyMatch(Tracked::prefilling); i++) {
                assertTrue(i < 10_000, "prefills never finished");
                step();
            }
        }

        /** The bound derived above, in steps after arrival (1 = the next step). */
        long bound(Tracked t) { return t.promptAhead / (budget - maxNumSeqs + 1) + 1; }

        int waited(Tracked t) { return t.firstChunkStep - t.arrivedBeforeStep + 1; }
    }

    @Test
    void withMaxNumSeqsDecodingAReplacementIsPrefilledInTheNextStep() {
        // the benchmark's closed loop (concurrency = max-num-seqs, 128-token prompts) at an eighth of the defaults
        Load load = new Load(32, 256);
        for (int i = 0; i < 32; i++) load.arrive(128, 24 + (i * 7) % 29);
        load.stepUntilAllDecode();
        int nextStep = 0;
        for (int s = 0; s < 400; s++) {
            List<Tracked> done = load.step();
            for (int i = 0; i < done.size(); i++) load.arrive(128, 24 + (load.all.size() * 7) % 29);
        }
        for (Tracked t : load.all.subList(32, load.all.size())) {
            if (t.firstChunkStep < 0) continue; // arrived in the last step
            assertTrue(load.waited(t) <= load.bound(t), t.id + " waited " + load.waited(t) + " steps with "
                    + t.promptAhead + " prompt tokens ahead; bound " + load.bound(t));
            if (t.promptAhead == 0) {
                assertEquals(1, load.waited(t), t.id + ": nothing ahead, so the next step");
                nextStep++;
            }
        }
        assertTrue(load.all.size() > 300, "the loop replaced sequences: " + load.all.size());
        assertTrue(nextStep > 200, "most arrivals had nothing ahead and started in the next step: " + nextStep);
    }

    @Test
    void aBurstOfArrivalsIsPrefilledWithinTheBoundWhileEveryDecodeKeepsItsToken() {
        Load load = new Load(64, 512);
        for (int i = 0; i < 40; i++) load.arrive(16, 1000);
        load.stepUntilAllDecode();
        List<Tracked> burst = new ArrayList<>();
        for (int i = 0; i < 24; i++) burst.add(load.arrive(100, 4));
        for (int s = 0; s < 12; s++) load.step();
        assertEquals(1, load.waited(burst.get(0)), "the first of the burst starts in the next step");
        for (Tracked t : burst) {
            assertTrue(t.firstChunkStep >= 0, t.id + " started");
            assertTrue(load.waited(t) <= load.bound(t), t.id + " waited " + load.waited(t) + " steps with "
                    + t.promptAhead + " prompt tokens ahead; bound " + load.bound(t));
        }
        // 40 decodes leave 472 tokens: four whole prompts and a chunk of the fifth in the first step
        assertEquals(List.of(1, 1, 1, 1, 1, 2), burst.subList(0, 6).stream().map(load::waited).toList());
        assertEquals(72, load.backend.steps.get(burst.get(4).firstChunkStep).stream()
                .filter(c -> c.tokens()[0] == burst.get(4).marker).findFirst().orElseThrow().tokens().length);
    }

    @Test
    void withEverySeatTakenAnArrivalStartsInTheStepAfterASeatFrees() {
        Load load = new Load(8, 64);
        for (int i = 0; i < 8; i++) load.arrive(10, i == 3 ? 5 : 1000);
        load.stepUntilAllDecode();
        Tracked late = load.arrive(30, 4);
        int freedAt = -1;
        for (int s = 0; s < 10 && late.firstChunkStep < 0; s++) {
            int before = load.steps;
            if (!load.step().isEmpty()) freedAt = before;
        }
        assertTrue(freedAt >= 0, "a seat freed");
        assertEquals(freedAt + 1, late.firstChunkStep, "max-num-seqs holds it back until then, not longer");
    }
}
