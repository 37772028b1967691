package ai.arbor.gpu.engine;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.SamplingParams;
import ai.arbor.gpu.sample.SamplingRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the engine gives a {@code DeviceSampling} backend, checked with the device algorithm's host model on the CPU. */
class DeviceSamplingEngineTest {
    private static final String MODEL = "tiny-qwen2";

    private static LLMEngine engine(DeviceSamplingBackend b) {
        return new LLMEngine(TinyModels.model(MODEL), b, EngineBehaviourTests.config(512, 16, 64, true));
    }

    private static DeviceSamplingBackend backend(int slots) {
        HfModel m = TinyModels.model(MODEL);
        return new DeviceSamplingBackend(new CpuBackend(m.config(), m.weights(), 2), slots);
    }

    private static SamplingParams sampled(Long seed, double presence) {
        return new SamplingParams(0.9, 0.95, 0, 0, seed, presence, 0, 1, 6, 0, true, new int[0], List.of(), null);
    }

    private static int[] prompt() { return TinyModels.reference(MODEL).get(0).promptIds(); }

    @Test
    void aSeededRequestGivesTheSameTokensAloneAndInAMixedBatch() {
        DeviceSamplingBackend alone = backend(8);
        LLMEngine e = engine(alone);
        int[] solo = EngineBehaviourTests.solo(e, prompt(), sampled(1234L, 0));
        e.close();

        DeviceSamplingBackend mixed = backend(8);
        LLMEngine m = engine(mixed);
        List<EngineRequest> rs = new ArrayList<>();
        rs.add(new EngineRequest("greedy", prompt(), EngineBehaviourTests.greedyIgnoringEos(6)));
        rs.add(new EngineRequest("other", prompt(), sampled(99L, 0.5)));
        rs.add(new EngineRequest("seeded", prompt(), sampled(1234L, 0)));
        Map<String, Collector> got = EngineBehaviourTests.run(m, rs);
        assertArrayEquals(solo, got.get("seeded").tokenArray(), "batch neighbours do not change a seeded request");
        assertEquals(0, mixed.forwardCalls, "every step sampled on the device, greedy beside sampled");
        assertTrue(mixed.steps.stream().anyMatch(rows -> rows.size() == 3), "the three rows shared steps");
        for (List<SamplingRow> rows : mixed.steps) {
            for (SamplingRow r : rows) {
                assertEquals(r.numTokens() - r.promptLength(), r.step(), "the Philox step counts output tokens");
            }
        }
        assertTrue(mixed.penaltyState.isEmpty(), "finished sequences released their penalty counts");
        m.close();
    }

    @Test
    void minTokensSuppressesStopTokensOnTheDeviceUntilEnoughAreOut() {
        DeviceSamplingBackend b = backend(8);
        LLMEngine e = engine(b);
        int eos = TinyModels.model(MODEL).eosTokenIds()[0];
        // a bias that makes EOS the only likely token: without min_tokens the request would stop at once
        SamplingParams p = new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 8, 3, false, new int[0], List.of(), null)
                .toBuilder().logitBias(Map.of(eos, 100f)).build();
        int[] out = EngineBehaviourTests.solo(e, prompt(), p);
        assertEquals(4, out.length, "three tokens with EOS suppressed, then EOS");
        assertEquals(eos, out[3]);
        for (List<SamplingRow> rows : b.steps) {
            SamplingRow r = rows.get(0);
            boolean early = r.step() < 3;
            assertEquals(early, EngineBehaviourTests.contains(r.suppressed(), eos), "step " + r.step());
        }
        e.close();
    }

    @Test
    void whenPenaltySlotsRunOutTheStepSamplesOnTheHost() {
        DeviceSamplingBackend b = backend(1);
        LLMEngine e = engine(b);
        Map<String, Collector> got = EngineBehaviourTests.run(e, List.of(
                new EngineRequest("p1", prompt(), sampled(1L, 0.5)), new EngineRequest("p2", prompt(), sampled(2L, 0.5))));
        assertEquals(6, got.get("p1").tokenArray().length);
        assertEquals(6, got.get("p2").tokenArray().length);
        assertTrue(b.forwardCalls > 0, "two penalized sequences do not fit one slot: host sampling");
        assertTrue(b.penaltyState.isEmpty());
        e.close();
    }

    @Test
    void logprobsComeBackFromTheDevicePath() {
        DeviceSamplingBackend b = backend(8);
        LLMEngine e = engine(b);
        SamplingParams p = new SamplingParams(0.8, 1, 0, 0, 5L, 0, 0, 1, 4, 0, true, new int[0], List.of(), 3);
        Collector c = EngineBehaviourTests.run(e, List.of(new EngineRequest("lp", prompt(), p))).get("lp");
        List<ai.arbor.gpu.protocol.TokenLogprobs> lps = new ArrayList<>();
        c.outputs.forEach(o -> lps.addAll(o.logprobs()));
        assertEquals(4, lps.size());
        lps.forEach(lp -> assertEquals(3, lp.topTokenIds().length));
        assertEquals(0, b.forwardCalls);
        e.close();
    }
}
