package ai.arbor.gpu.engine;

import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.FinishReason;
import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The loop's control flow on the tiny Qwen2 model: waking on new work and surviving a failing step (a device error,
 * injected into the real CPU backend).
 */
class EngineLoopTest {
    private static final int[] PROMPT = {1, 2, 3, 4, 5, 6};

    private static void await(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out");
            Thread.sleep(5);
        }
    }

    @Test
    void stepsWhileThereIsWorkAndSurvivesAFailingStep() throws Exception {
        HfModel m = TinyModels.model("tiny-qwen2");
        FailingOnceBackend backend = new FailingOnceBackend(new CpuBackend(m.config(), m.weights(), 2));
        LLMEngine engine = new LLMEngine(m, backend, new EngineConfig(4, 32, 8, 64, 0, true, 0));
        try (EngineLoop loop = new EngineLoop(engine, "test-engine")) {
            loop.start();
            Collector a = new Collector();
            engine.addRequest(new EngineRequest("a", PROMPT, EngineBehaviourTests.greedyIgnoringEos(5)), a);
            loop.wakeup();
            await(a::finished);
            assertEquals(5, a.tokens.size());
            assertEquals(FinishReason.LENGTH, a.last.finishReason());

            backend.failNext = new IllegalStateException("device lost");
            Collector b = new Collector();
            engine.addRequest(new EngineRequest("b", new int[] {7, 8, 9}, EngineBehaviourTests.greedyIgnoringEos(5)), b);
            loop.wakeup();
            await(b::finished);
            assertEquals("device lost", b.error.getMessage());
            assertEquals(FinishReason.ABORT, b.last.finishReason());

            Collector c = new Collector();
            engine.addRequest(new EngineRequest("c", PROMPT, EngineBehaviourTests.greedyIgnoringEos(5)), c);
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
        LLMEngine engine = TinyModels.engine("tiny-qwen2", new EngineConfig(4, 8, 8, 64, 0, true, 0));
        EngineLoop loop = new EngineLoop(engine);
        loop.start();
        loop.close();
        assertFalse(loop.isAlive());
        engine.close();
    }
}
