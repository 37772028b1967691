package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The wgmma GEMM's kernel table agrees with hopper_gemm.cu and its plans fill the SMs (runs without a GPU). */
class HopperGemmTest {
    /** An H100 SXM's SMs; the most dynamic shared memory one block may opt into on compute capability 9.0. */
    private static final int SMS = 132;
    private static final int MAX_SHARED = 227 * 1024;

    @Test
    void everyLaunchedKernelIsDefinedWithTheShapeAndStagesTheSharedMemoryFigureAssumes() throws IOException {
        String cu = Files.readString(Path.of("src/main/cuda/hopper_gemm.cu"));
        for (HopperGemm.Kernel k : HopperGemm.KERNELS) {
            String shape = k.name() + ", " + k.rows() + ", " + k.width() + ", ";
            String def = k.w8()
                    ? k.split() == 1 ? "HOPPER_GEMM_W8(" + shape + k.stages() + ", " + k.keep() + ")"
                    : "HOPPER_GEMM_SPLIT_W8(" + shape + k.split() + ", " + k.stages() + ")"
                    : k.split() == 1 ? "HOPPER_GEMM(" + shape + k.stages() + ", " + k.keep() + ", " + k.lo() + ")"
                    : "HOPPER_GEMM_SPLIT(" + shape + k.split() + ", " + k.stages() + ", " + k.lo() + ")";
            assertTrue(k.split() == 1 || k.keep() == 1, "HOPPER_GEMM_SPLIT* keep one wgmma group in flight: " + k);
            assertTrue(k.stages() - 1 - k.keep() >= 1, "no slot to prefetch into: " + k);
            assertTrue(cu.contains(def), "hopper_gemm.cu lacks " + def);
            assertTrue(k.sharedBytes() <= MAX_SHARED, def + " needs " + k.sharedBytes() + " bytes of shared memory");
            // a split tile's partial sums ([rows][width + 8] floats) reuse the ring
            if (k.split() > 1) assertTrue(k.sharedBytes() - 1024 >= k.rows() * (k.width() + 8) * 4, def);
        }
    }

    @Test
    void theTmaKernelsAreDefinedAsLaunchedAndFit() throws IOException {
        String cuh = Files.readString(Path.of("src/main/cuda/hopper_gemm_tma.cuh"));
        for (HopperGemm.TmaKernel k : HopperGemm.TMA_KERNELS) {
            String def = "HOPPER_GEMM_TMA(" + k.name() + ", " + k.width() + ", " + k.stages() + ", " + k.lo() + ")";
            assertTrue(cuh.contains(def), "hopper_gemm_tma.cuh lacks " + def);
            assertTrue(k.sharedBytes() <= MAX_SHARED, def + " needs " + k.sharedBytes() + " bytes of shared memory");
        }
        assertTrue(Files.readString(Path.of("src/main/cuda/hopper_gemm.cu")).contains("#include \"hopper_gemm_tma.cuh\""),
                "the TMA kernels are part of hopper_gemm.cu's module");
        // 2048 rows: q/k/v 16 x 8 = 128 tiles of 256 columns, one wave (256 columns a SM) against two waves of 128
        assertEquals("hopper_gemm_tma_n256", HopperGemm.tmaPlan(2048, 2048, SMS, true).name());
        // gate/up: 70 x 16 = 1120 tiles of 256 take 9 waves (2304 columns a SM), 2240 of 128 take 17 (2176)
        assertEquals("hopper_gemm_tma_n128", HopperGemm.tmaPlan(2048, 17920, SMS, true).name());
        // o (1536 columns): 96 tiles of 256 in one wave, as many columns a SM as 192 tiles of 128 in two: the wider
        assertEquals("hopper_gemm_tma_n256_hi", HopperGemm.tmaPlan(2048, 1536, SMS, false).name());
    }

    @Test
    void decodeBatchesTakeSixtyFourRowTilesAndSplitTheNarrowOutputsOverMostSms() {
        // Qwen2.5-1.5B at 64 rows: q/k/v (2048 x 1536) 16 tiles of 128 columns, o (1536 x 1536) and down (1536 x 8960)
        // 12: eight K slices each fill 128 and 96 of the 132 SMs
        assertEquals("hopper_gemm_m64_n128_s8", HopperGemm.plan(64, 1536, 2048, SMS, true, false).name());
        assertEquals("hopper_gemm_m64_n128_s8", HopperGemm.plan(64, 1536, 1536, SMS, true, false).name());
        assertEquals("hopper_gemm_m64_n128_s8", HopperGemm.plan(64, 8960, 1536, SMS, true, false).name());
        // gate/up (17920) has 140 tiles of 128 columns, a second wave of 8: 70 tiles of 256 instead; lm_head likewise
        assertEquals("hopper_gemm_m64_n256", HopperGemm.plan(64, 1536, 17920, SMS, true, false).name());
        assertEquals("hopper_gemm_m64_n256", HopperGemm.plan(16, 1536, 151936, SMS, true, false).name());
        // a short K: no slice of fewer than two K tiles (256 = four tiles: two slices at most)
        assertEquals("hopper_gemm_m64_n128_s2", HopperGemm.plan(64, 256, 1536, SMS, true, false).name());
        // 256 rows (two row tiles): q/k/v 32 tiles of 128, four slices give 128 blocks; eight would exceed one wave
        assertEquals("hopper_gemm_n128_s4", HopperGemm.plan(256, 1536, 2048, SMS, true, false).name());
        // prefill: enough tiles without splitting
        assertEquals("hopper_gemm_n192", HopperGemm.plan(2048, 1536, 1536, SMS, true, false).name());
        assertEquals("hopper_gemm_n256", HopperGemm.plan(2048, 1536, 2048, SMS, true, false).name());
        // FP8 weights: the same tiles, their _w8 kernels (x as hi + lo whatever the tuning says)
        assertEquals("hopper_gemm_m64_n128_s8_w8", HopperGemm.plan(64, 1536, 2048, SMS, false, true).name());
        assertEquals("hopper_gemm_m64_n256_w8", HopperGemm.plan(64, 1536, 17920, SMS, true, true).name());
        assertEquals("hopper_gemm_n192_w8", HopperGemm.plan(2048, 1536, 1536, SMS, true, true).name());
        // x as hi only has no split kernels: the whole-tile plan whatever the rows
        assertEquals("hopper_gemm_n128_hi", HopperGemm.plan(64, 1536, 2048, SMS, false, false).name());
        // every plan is one wave at most when it splits
        for (int n : new int[]{3, 16, 64, 65, 128, 256, 512, 1024, 2048}) {
            for (int[] shape : new int[][]{{1536, 2048}, {1536, 1536}, {1536, 17920}, {8960, 1536}, {1536, 151936}}) {
                HopperGemm.Kernel k = HopperGemm.plan(n, shape[0], shape[1], SMS, true, n % 2 == 0);
                if (k.split() > 1) assertTrue(k.blocks(n, shape[1]) <= SMS, k + " at " + n + " rows");
                assertTrue(shape[0] / HopperGemm.K_TILE / k.split() >= 2, k + " at " + n + " rows");
            }
        }
    }

    @Test
    void theColumnWidthFillsTheLastWaveBest() {
        // 2048-token prefill of Qwen2.5-1.5B (16 row tiles): q/k/v 2048 columns -> 8 x 256 = 128 tiles, one wave; a
        // tie with two waves of 128 (256 tiles) that goes to the wider tile
        assertEquals(256, HopperGemm.width(2048, 2048, SMS));
        // o and down (1536): 6 x 256 = 96 tiles leave a quarter of the SMs idle, 8 x 192 = 128 fill one wave
        assertEquals(192, HopperGemm.width(2048, 1536, SMS));
        // gate/up (17920): 140 x 128 columns = 2240 tiles, 17 waves of 132, against 9 waves of 256 (70 x 16 = 1120)
        assertEquals(128, HopperGemm.width(2048, 17920, SMS));
        // one row tile: the narrowest tiles spread the weights over the most SMs
        assertEquals(128, HopperGemm.width(128, 2048, SMS));
    }
}
