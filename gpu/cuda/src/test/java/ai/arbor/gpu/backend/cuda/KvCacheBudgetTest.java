package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import ai.arbor.gpu.model.Architecture;
import ai.arbor.gpu.model.DType;
import ai.arbor.gpu.model.ModelConfig;
import ai.arbor.gpu.model.quant.Quantization;
import org.junit.jupiter.api.Test;

/** The KV cache takes what gpu-memory-utilization leaves after the weights and the largest step (runs without a GPU). */
class KvCacheBudgetTest {
    /** Qwen2.5-1.5B's shape, the GPU benchmark's model. */
    private static final ModelConfig QWEN_1_5B = new ModelConfig(Architecture.QWEN2, 151936, 1536, 8960, 28, 12, 2, 128,
            32768, 1e-6, 1e6, null, true, true, false, DType.BF16);
    /** What an H100 80GB reports as total memory, and a CUDA context's share of it. */
    private static final long H100 = 85_028_896_768L;
    private static final long CONTEXT = 530L << 20;
    private static final int SLOTS = 256;
    /** bf16 K and V of 16 tokens in 28 layers of 2 KV heads x 128. */
    private static final long BLOCK = 16L * 28 * 2 * 256 * 2;

    /** The device's free memory once the backend holds its weights and the buffers of a step within {@code limits}. */
    private static long freeAfterSetup(StepLimits limits) {
        return H100 - CONTEXT - CudaWeights.matrixBytes(QWEN_1_5B, Quantization.NONE) - KvCacheBudget.stepBuffers(QWEN_1_5B, limits, SLOTS);
    }

    @Test
    void theKvCacheFillsTheUtilizationLessWhatIsInUseAndNoMore() {
        for (double util : new double[] {0.9, 0.5, 0.95}) {
            long free = freeAfterSetup(StepLimits.DEFAULT);
            int blocks = KvCacheBudget.kvBlocks(H100, free, util, 0, BLOCK);
            long used = H100 - free + (blocks + 1) * BLOCK; // the cache holds one scratch block more
            assertTrue(used <= (long) (H100 * util), util + ": " + used + " bytes in use");
            assertTrue(used + BLOCK > (long) (H100 * util), util + ": one block more would still have fitted");
        }
        int at90 = KvCacheBudget.kvBlocks(H100, freeAfterSetup(StepLimits.DEFAULT), 0.9, 0, BLOCK);
        int at50 = KvCacheBudget.kvBlocks(H100, freeAfterSetup(StepLimits.DEFAULT), 0.5, 0, BLOCK);
        assertEquals((long) (H100 * 0.4) / BLOCK, at90 - at50, 1.0, "each tenth of the GPU is a tenth more blocks");
        // the 1.5B shape on an H100 at 0.9: ~70 GB of KV cache, ~150k blocks (2.4M tokens)
        assertTrue(at90 > 150_000 && at90 < 160_000, "blocks: " + at90);
    }

    @Test
    void fp8WeightsHalveTheLayerMatricesAndTheRestGoesToTheKvCache() {
        long bf16 = CudaWeights.matrixBytes(QWEN_1_5B, Quantization.NONE);
        long fp8 = CudaWeights.matrixBytes(QWEN_1_5B, Quantization.FP8);
        long layerWeights = 28L * (2048L * 1536 + 1536L * 1536 + 3L * 8960 * 1536); // 1.31e9, a byte each in FP8
        long embed = 2L * 151936 * 1536; // tied: embeddings and LM head are one bf16 matrix
        assertEquals(2 * layerWeights + embed, bf16);
        // a scale per row (2048 + 2 x 1536 + 17920 per layer) and the bf16 scratch of the largest (gate/up) matrix
        assertEquals(layerWeights + 4L * 28 * (2048 + 2 * 1536 + 17920) + embed + 2L * 17920 * 1536, fp8);
        int blocksBf16 = KvCacheBudget.kvBlocks(H100, freeAfterSetup(StepLimits.DEFAULT), 0.9, 0, BLOCK);
        int blocksFp8 = KvCacheBudget.kvBlocks(H100, freeAfterSetup(StepLimits.DEFAULT) + bf16 - fp8, 0.9, 0, BLOCK);
        assertEquals((bf16 - fp8) / BLOCK, blocksFp8 - blocksBf16, 1.0);
    }

    @Test
    void memoryOthersUseAndTheCacheAlreadyHeldAreAccountedFor() {
        long free = freeAfterSetup(StepLimits.DEFAULT);
        int alone = KvCacheBudget.kvBlocks(H100, free, 0.9, 0, BLOCK);
        long other = 10L << 30;
        int shared = KvCacheBudget.kvBlocks(H100, free - other, 0.9, 0, BLOCK);
        assertEquals(other / BLOCK, alone - shared, 1.0, "another process's 10 GiB come out of this one's share");
        // re-sizing: the blocks the cache holds now count as free, so asking again gives the same answer
        long held = (alone + 1) * BLOCK;
        assertEquals(alone, KvCacheBudget.kvBlocks(H100, free - held, 0.9, held, BLOCK));
        assertEquals(0, KvCacheBudget.kvBlocks(H100, (long) (H100 * 0.05), 0.9, 0, BLOCK), "over budget: no blocks");
    }

    @Test
    void theStagingOfBatchedBlockCopiesIsSetAsideBeforeItIsAllocated() {
        long free = freeAfterSetup(StepLimits.DEFAULT);
        int without = KvCacheBudget.kvBlocks(H100, free, 0.9, 0, BLOCK);
        long staging = PinnedKvStaging.deviceBytes(KvPackLayout.roundBlocks(32L << 20, BLOCK), BLOCK);
        int with = KvCacheBudget.kvBlocks(H100, free, 0.9, 0, staging, BLOCK);
        assertEquals(staging / BLOCK, without - with, 1.0, "two 32 MiB slots come out of the cache");
        assertTrue(staging > 60L << 20 && staging <= (64L << 20) + 1024, "73 blocks of 448 KiB per slot: " + staging);
    }

    @Test
    void aLargerTokenBudgetIsSetAsideBeforeTheKvCacheSoNoStepGrowsPastTheUtilization() {
        StepLimits big = new StepLimits(8192, 256);
        long extra = KvCacheBudget.stepBuffers(QWEN_1_5B, big, SLOTS)
                - KvCacheBudget.stepBuffers(QWEN_1_5B, StepLimits.DEFAULT, SLOTS);
        // 6,144 more rows of activations (x, h, qkv, attention, gate/up, SwiGLU, bf16 hi/lo): ~1 GB for this shape
        assertEquals(6144L * 4 * (2 * 1536 + 1536 + 2 * 256 + 1536 + 3 * 8960 + 8960), extra);
        int blocks = KvCacheBudget.kvBlocks(H100, freeAfterSetup(big), 0.9, 0, BLOCK);
        long used = H100 - freeAfterSetup(big) + (blocks + 1) * BLOCK;
        assertTrue(used <= (long) (H100 * 0.9), "the 8192-token step's buffers are inside the 90%");
        // set aside for 2,048 tokens only, the first 8,192-token step would have grown them past the 90%
        int naive = KvCacheBudget.kvBlocks(H100, freeAfterSetup(StepLimits.DEFAULT), 0.9, 0, BLOCK);
        long naiveUsed = H100 - freeAfterSetup(StepLimits.DEFAULT) + (naive + 1) * BLOCK + extra;
        assertTrue(naiveUsed > (long) (H100 * 0.9));
    }

    @Test
    void stepLimitsCoverPaddedDecodeGraphs() {
        assertEquals(2048, StepLimits.DEFAULT.tokens());
        assertEquals(256, StepLimits.DEFAULT.logitRows());
        assertEquals(8, new StepLimits(6, 6).tokens(), "6 decode rows replay the graph of 8");
        assertEquals(8, new StepLimits(6, 6).logitRows());
        assertEquals(224, new StepLimits(200, 300).tokens(), "at most 200 decode rows fit the budget: graph of 224");
        assertEquals(224, new StepLimits(200, 300).logitRows());
        assertEquals(300, new StepLimits(4096, 300).logitRows(), "beyond the largest graph: eager, unpadded");
        assertEquals(4096, new StepLimits(4096, 300).tokens());
        assertThrows(IllegalArgumentException.class, () -> new StepLimits(0, 1));
    }
}
