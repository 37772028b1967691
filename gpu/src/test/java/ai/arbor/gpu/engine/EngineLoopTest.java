package ai.arbor.gpu.engine;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.RopeScaling;
import ai.arbor.gpu.sample.SamplingParams;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The loop's control flow: waking on new work and surviving a failing step. A forward pass that throws on demand
 * cannot be had from a real backend, hence the test backend here.
 */
class EngineLoopTest {
    static final ModelConfig CONFIG = new ModelConfig(Architecture.LLAMA, 64, 8, 16, 1, 1, 1, 8, 512, 1e-5, 10000,
            RopeScaling.DEFAULT, true, false, false, DType.F32);

    private static void await(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out");
            Thread.sleep(5);
        }
    }

    @Test
    void stepsWhileThereIsWorkAndSurvivesAFailingStep() throws Exception {
        PagedTokenBackend backend = new PagedTokenBackend(64);
        EngineConfig cfg = new EngineConfig(4, 32, 8, 64, 0, true, 0);
        LLMEngine engine = new LLMEngine(CONFIG, new int[0], backend, cfg);
        try (EngineLoop loop = new EngineLoop(engine, "test-engine")) {
            loop.start();
            Collector a = new Collector();
            engine.addRequest(new EngineRequest("a", new int[] {1, 2, 3}, SamplingParams.greedy(5)), a);
            loop.wakeup();
            await(a::finished);
            assertEquals(5, a.tokens.size());
            assertEquals(FinishReason.LENGTH, a.last.finishReason());

            backend.failNext = new IllegalStateException("device lost");
            Collector b = new Collector();
            engine.addRequest(new EngineRequest("b", new int[] {4, 5, 6}, SamplingParams.greedy(5)), b);
            loop.wakeup();
            await(b::finished);
            assertEquals("device lost", b.error.getMessage());
            assertEquals(FinishReason.ABORT, b.last.finishReason());

            Collector c = new Collector();
            engine.addRequest(new EngineRequest("c", new int[] {1, 2, 3}, SamplingParams.greedy(5)), c);
            loop.wakeup();
            await(c::finished);
            assertTrue(loop.isAlive());
            assertArrayEquals(a.tokenArray(), c.tokenArray(), "the engine still works after the failure");
            await(() -> !engine.hasWork());
        }
        assertEquals(32, engine.numFreeKvBlocks(), "the failed request's blocks came back");
        engine.close();
    }

    @Test
    void closeStopsAnIdleLoop() {
        LLMEngine engine = new LLMEngine(CONFIG, new int[0], new PagedTokenBackend(64),
                new EngineConfig(4, 8, 8, 64, 0, true, 0));
        EngineLoop loop = new EngineLoop(engine);
        loop.start();
        loop.close();
        assertFalse(loop.isAlive());
        engine.close();
    }
}
