package ai.arbor.gpu.backend.cuda;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The wgmma GEMM's launch table agrees with hopper_gemm.cu and picks full waves (runs without a GPU). */
class HopperGemmTest {
    /** An H100 SXM's SMs; the most dynamic shared memory one block may opt into on compute capability 9.0. */
    private static final int SMS = 132;
    private static final int MAX_SHARED = 227 * 1024;

    @Test
    void everyLaunchedKernelIsDefinedWithTheStagesTheSharedMemoryFigureAssumes() throws IOException {
        String cu = Files.readString(Path.of("src/main/cuda/hopper_gemm.cu"));
        for (int bn : new int[]{256, 192, 128}) {
            for (boolean lo : new boolean[]{true, false}) {
                String def = "HOPPER_GEMM(" + HopperGemm.kernel(bn, lo) + ", " + bn + ", " + HopperGemm.stages(bn, lo)
                        + ", 1, " + lo + ")";
                assertTrue(cu.contains(def), "hopper_gemm.cu lacks " + def);
                int shared = HopperGemm.sharedBytes(bn, lo);
                assertTrue(shared <= MAX_SHARED, def + " needs " + shared + " bytes of shared memory");
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
