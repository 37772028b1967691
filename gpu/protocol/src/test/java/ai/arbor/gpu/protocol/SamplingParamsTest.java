package ai.arbor.gpu.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

    static final SamplingParams ALL_SET = SamplingParams.builder().temperature(0.7).topP(0.9).topK(40).minP(0.05)
            .seed(11L).presencePenalty(0.5).frequencyPenalty(0.25).repetitionPenalty(1.1).maxTokens(100).minTokens(3)
            .ignoreEos(true).stopTokenIds(new int[] {7, 9}).stop(List.of("END")).logprobs(2).build();

    @Test
    void theBuilderStartsAtOpenAisDefaults() {
        SamplingParams p = SamplingParams.builder().build();
        assertEquals(1.0, p.temperature());
        assertEquals(1.0, p.topP());
        assertEquals(0, p.topK());
        assertEquals(0.0, p.minP());
        assertNull(p.seed());
        assertEquals(0.0, p.presencePenalty());
        assertEquals(0.0, p.frequencyPenalty());
        assertEquals(1.0, p.repetitionPenalty());
        assertEquals(16, p.maxTokens());
        assertEquals(0, p.minTokens());
        assertFalse(p.ignoreEos());
        assertArrayEquals(new int[0], p.stopTokenIds());
        assertEquals(List.of(), p.stop());
        assertNull(p.logprobs());
        assertFalse(p.isGreedy());
    }

    @Test
    void everySetterReachesItsComponent() {
        SamplingParams p = ALL_SET;
        assertEquals(List.of(0.7, 0.9, 40, 0.05, 11L, 0.5, 0.25, 1.1, 100, 3, true, List.of("END"), 2),
                List.of(p.temperature(), p.topP(), p.topK(), p.minP(), p.seed(), p.presencePenalty(),
                        p.frequencyPenalty(), p.repetitionPenalty(), p.maxTokens(), p.minTokens(), p.ignoreEos(),
                        p.stop(), p.logprobs()));
        assertArrayEquals(new int[] {7, 9}, p.stopTokenIds());
    }

    @Test
    void toBuilderKeepsEveryComponent() {
        assertEquals(ALL_SET, ALL_SET.toBuilder().build());
    }

    @Test
    void withersChangeOnlyTheirComponent() {
        assertEquals(ALL_SET.toBuilder().seed(12L).build(), ALL_SET.withSeed(12L));
        assertEquals(ALL_SET.toBuilder().maxTokens(40).build(), ALL_SET.withMaxTokens(40));
        assertEquals(ALL_SET.toBuilder().minTokens(0).build(), ALL_SET.withMinTokens(0));
        assertEquals(12L, ALL_SET.withSeed(12L).seed());
        assertEquals(11L, ALL_SET.seed(), "the original is unchanged");
    }

    @Test
    void greedyIsGreedyWithItsLimit() {
        SamplingParams g = SamplingParams.greedy(5);
        assertTrue(g.isGreedy());
        assertEquals(5, g.maxTokens());
        assertEquals(0.0, g.temperature());
        assertEquals(1.0, g.repetitionPenalty());
        assertFalse(g.ignoreEos());
        assertArrayEquals(new int[0], g.stopTokenIds());
    }
}
