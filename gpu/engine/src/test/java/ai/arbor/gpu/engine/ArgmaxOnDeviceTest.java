package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.EngineRequest;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine picks greedy tokens on a {@code GreedyForward} backend only when the host sampler would take the argmax. */
class ArgmaxOnDeviceTest {
    private static final String MODEL = "tiny-qwen2";

    private static LLMEngine engine(ArgmaxBackend backend) {
        HfModel m = TinyModels.model(MODEL);
        return new LLMEngine(m, backend, EngineBehaviourTests.config(512, 16, 64, true));
    }

    private static ArgmaxBackend backend() {
        HfModel m = TinyModels.model(MODEL);
        return new ArgmaxBackend(new CpuBackend(m.config(), m.weights(), 2));
    }

    @Test
    void greedyBatchesTakeTheDevicePathAndMatchTransformers() {
        List<TinyModels.Case> cases = TinyModels.reference(MODEL);
        int n = cases.get(0).generatedIds().length;
        List<EngineRequest> rs = new ArrayList<>();
        for (TinyModels.Case c : cases) {
            rs.add(new EngineRequest(c.name(), c.promptIds(), EngineBehaviourTests.greedyIgnoringEos(n)));
        }
        ArgmaxBackend fast = backend();
        LLMEngine e = engine(fast);
        Map<String, Collector> got = EngineBehaviourTests.run(e, rs);
        for (TinyModels.Case c : cases) assertArrayEquals(c.generatedIds(), got.get(c.name()).tokenArray(), c.name());
        assertEquals(0, fast.forwardCalls, "every step was plain greedy");
        assertEquals(fast.greedyCalls, e.argmaxOnDeviceSteps());
        assertTrue(fast.greedyCalls >= n);
        e.close();

        ArgmaxBackend slow = backend();
        LLMEngine off = engine(slow);
        off.setArgmaxOnDevice(false);
        Map<String, Collector> host = EngineBehaviourTests.run(off, rs);
        for (TinyModels.Case c : cases) {
            assertArrayEquals(got.get(c.name()).tokenArray(), host.get(c.name()).tokenArray(), c.name());
        }
        assertEquals(0, slow.greedyCalls);
        assertEquals(0, off.argmaxOnDeviceSteps());
        off.close();
    }

    @Test
    void logprobsPenaltiesSamplingOrMinTokensKeepTheHostSampler() {
        int[] prompt = TinyModels.reference(MODEL).get(0).promptIds();
        List<SamplingParams> needHost = List.of(
                new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 4, 0, true, new int[0], List.of(), 2),
                new SamplingParams(0, 1, 0, 0, null, 0.5, 0, 1, 4, 0, true, new int[0], List.of(), null),
                new SamplingParams(0, 1, 0, 0, null, 0, 0, 1.2, 4, 0, true, new int[0], List.of(), null),
                new SamplingParams(0.8, 1, 0, 0, 7L, 0, 0, 1, 4, 0, true, new int[0], List.of(), null),
                new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 4, 4, false, new int[0], List.of(), null));
        for (SamplingParams p : needHost) {
            ArgmaxBackend b = backend();
            LLMEngine e = engine(b);
            // Mixed with a plain greedy request: one request that needs the logits sends the whole step to the host.
            Map<String, Collector> got = EngineBehaviourTests.run(e, List.of(new EngineRequest("host", prompt, p),
                    new EngineRequest("plain", prompt, EngineBehaviourTests.greedyIgnoringEos(4))));
            assertEquals(4, got.get("host").tokenArray().length);
            assertEquals(0, b.greedyCalls, p.toString());
            assertTrue(b.forwardCalls >= 4);
            e.close();
        }
    }

    @Test
    void minTokensWithNothingToSuppressStaysOnTheDevice() {
        int[] prompt = TinyModels.reference(MODEL).get(0).promptIds();
        ArgmaxBackend b = backend();
        LLMEngine e = engine(b);
        SamplingParams p = new SamplingParams(0, 1, 0, 0, null, 0, 0, 1, 3, 3, true, new int[0], List.of(), null);
        assertEquals(3, EngineBehaviourTests.run(e, List.of(new EngineRequest("r", prompt, p))).get("r").tokenArray().length);
        assertEquals(0, b.forwardCalls);
        e.close();
    }
}
