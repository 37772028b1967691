package ai.arbor.gpu.engine;

import java.util.List;

/** The engine behaviour against the test backend, until the real models run here. */
class PagedTokenEngineTest extends EngineBehaviourTests {
    @Override
    LLMEngine engine(EngineConfig config) {
        return new LLMEngine(EngineLoopTest.CONFIG, eos(), new PagedTokenBackend(64), config);
    }

    @Override
    List<int[]> prompts() {
        return List.of(new int[] {1, 2, 3}, new int[] {5, 6, 7, 8, 9, 10, 11}, new int[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 1},
                new int[] {4, 3, 2, 1, 4, 3});
    }

    @Override
    int[] eos() { return new int[] {63}; }
}
