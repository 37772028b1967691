package ai.arbor.gpu.engine;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.backend.cpu.CpuBackend;
import ai.arbor.gpu.model.HfModel;
import ai.arbor.gpu.protocol.EngineRequest;
import ai.arbor.gpu.protocol.Pooling;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Embeddings on the engine thread of tiny-qwen2: they run between the steps of a generation without changing its
 * tokens, give back every KV block they borrowed, and bad inputs are refused before they queue. A job its caller
 * cancelled computes nothing, and an {@link Error} in its forward pass still answers the caller.
 */
class EmbeddingEngineTest {
    private static final int[] PROMPT = {1, 2, 3, 4, 5, 6};

    @Test
    void embeddingsRunBetweenStepsAndFreeTheirBlocks() throws Exception {
        LLMEngine engine = TinyModels.engine("tiny-qwen2", new EngineConfig(4, 32, 8, 64, 0, true, 0));
        try (EngineLoop loop = new EngineLoop(engine, "test-engine")) {
            loop.start();
            Collector alone = new Collector();
            engine.addRequest(new EngineRequest("alone", PROMPT, EngineBehaviourTests.greedyIgnoringEos(12)), alone);
            loop.wakeup();
            while (!alone.finished()) Thread.sleep(5);

            Collector mixed = new Collector();
            engine.addRequest(new EngineRequest("mixed", PROMPT, EngineBehaviourTests.greedyIgnoringEos(12)), mixed);
            loop.wakeup();
            float[][] first = engine.embed(List.of(new int[] {10, 11, 12}, new int[] {13, 14, 15, 16, 17}), Pooling.LAST)
                    .get(30, TimeUnit.SECONDS);
            float[][] again = engine.embed(List.of(new int[] {13, 14, 15, 16, 17}), Pooling.LAST).get(30, TimeUnit.SECONDS);
            while (!mixed.finished()) Thread.sleep(5);
            assertArrayEquals(alone.tokenArray(), mixed.tokenArray(), "embeddings in between change no token");
            assertEquals(2, first.length);
            assertEquals(256, first[0].length);
            assertArrayEquals(first[1], again[0], "the same input alone gives the same vector");
            float[] mean = engine.embed(List.of(new int[] {13, 14, 15, 16, 17}), Pooling.MEAN).get(30, TimeUnit.SECONDS)[0];
            assertFalse(java.util.Arrays.equals(first[1], mean), "mean pooling is not the last token's");
            while (engine.hasWork()) Thread.sleep(5);
        }
        assertEquals(32, engine.numFreeKvBlocks(), "every borrowed block came back");
        engine.close();
    }

    @Test
    void emptyOrTooLongInputsAreRefusedAtOnce() {
        // 2 blocks of 4 tokens: the model length is capped to the cache's 8 tokens
        LLMEngine engine = TinyModels.engine("tiny-qwen2", new EngineConfig(4, 2, 8, 64, 0, true, 0));
        assertThrows(IllegalArgumentException.class, () -> engine.embed(List.of(new int[0]), Pooling.LAST));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> engine.embed(List.of(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}), Pooling.LAST));
        assertTrue(tooLong.getMessage().contains("maximum context length is 8"), tooLong.getMessage());
        engine.close();
    }

    private static LLMEngine engineOn(FailingOnceBackend backend, HfModel m) {
        return new LLMEngine(m, backend, new EngineConfig(4, 32, 8, 64, 0, true, 0));
    }

    @Test
    void aCancelledJobComputesNothing() throws Exception {
        HfModel m = TinyModels.model("tiny-qwen2");
        FailingOnceBackend backend = new FailingOnceBackend(new CpuBackend(m.config(), m.weights(), 2));
        LLMEngine engine = engineOn(backend, m);
        CompletableFuture<float[][]> dropped = engine.embed(List.of(new int[] {10, 11, 12}, new int[] {13}), Pooling.LAST);
        assertTrue(dropped.cancel(false));
        engine.step();
        assertEquals(0, backend.embeddingPasses.get(), "no forward pass for a dropped job");
        assertFalse(engine.hasWork());
        assertEquals(32, engine.numFreeKvBlocks());
        engine.close();
    }

    @Test
    void anErrorInTheForwardPassAnswersTheCallerAndAVirtualMachineErrorGoesOn() throws Exception {
        HfModel m = TinyModels.model("tiny-qwen2");
        FailingOnceBackend backend = new FailingOnceBackend(new CpuBackend(m.config(), m.weights(), 2));
        LLMEngine engine = engineOn(backend, m);

        backend.failNextEmbedding = new AssertionError("test: a broken kernel");
        CompletableFuture<float[][]> broken = engine.embed(List.of(new int[] {10, 11, 12}), Pooling.LAST);
        engine.step();
        ExecutionException e = assertThrows(ExecutionException.class, () -> broken.get(0, TimeUnit.SECONDS));
        assertInstanceOf(AssertionError.class, e.getCause());

        backend.failNextEmbedding = new OutOfMemoryError("test: Java heap space");
        CompletableFuture<float[][]> oom = engine.embed(List.of(new int[] {10, 11, 12}), Pooling.LAST);
        // the loop, not the job, decides what a JVM out of memory means for the requests in flight
        assertThrows(OutOfMemoryError.class, engine::step);
        e = assertThrows(ExecutionException.class, () -> oom.get(0, TimeUnit.SECONDS));
        assertInstanceOf(OutOfMemoryError.class, e.getCause());

        assertEquals(32, engine.numFreeKvBlocks(), "the failed passes gave their blocks back");
        CompletableFuture<float[][]> after = engine.embed(List.of(new int[] {10, 11, 12}), Pooling.LAST);
        engine.step();
        assertEquals(256, after.get(0, TimeUnit.SECONDS)[0].length, "the engine goes on embedding");
        engine.close();
    }
}
