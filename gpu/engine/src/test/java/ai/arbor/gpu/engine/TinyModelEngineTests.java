package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.EngineRequest;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine on a tiny model and the real CPU backend: transformers' greedy tokens, then every behaviour test. */
abstract class TinyModelEngineTests extends EngineBehaviourTests {
    abstract String modelName();

    @Override
    LLMEngine engine(EngineConfig config) { return TinyModels.engine(modelName(), config); }

    /** A few reference prompts of different lengths and both kinds (the long one included). */
    @Override
    List<int[]> prompts() {
        List<TinyModels.Case> cases = TinyModels.reference(modelName());
        List<int[]> out = new ArrayList<>();
        for (TinyModels.Case c : cases) {
            if (c.name().equals("completion-0") || c.name().equals("completion-1") || c.name().equals("chat-0")
                    || c.name().equals("long-completion")) {
                out.add(c.promptIds());
            }
        }
        assertEquals(4, out.size(), "reference cases changed their names");
        return out;
    }

    @Override
    int[] eos() { return TinyModels.model(modelName()).eosTokenIds(); }

    @Test
    void reproducesTransformersGreedyTokensAloneAndInABatch() {
        List<TinyModels.Case> cases = TinyModels.reference(modelName());
        int n = cases.get(0).generatedIds().length;
        LLMEngine alone = engine(config(512, 8, 2048, true));
        for (TinyModels.Case c : cases) {
            assertArrayEquals(c.generatedIds(), solo(alone, c.promptIds(), greedyIgnoringEos(n)), c.name());
        }
        alone.close();

        LLMEngine batch = engine(config(512, 16, 64, true));
        List<EngineRequest> rs = new ArrayList<>();
        for (TinyModels.Case c : cases) rs.add(new EngineRequest(c.name(), c.promptIds(), greedyIgnoringEos(n)));
        Map<String, Collector> got = run(batch, rs);
        for (TinyModels.Case c : cases) {
            assertArrayEquals(c.generatedIds(), got.get(c.name()).tokenArray(), c.name() + " in a batch");
        }
        assertEquals(batch.numKvBlocks(), batch.numFreeKvBlocks());
        batch.close();
    }
}
