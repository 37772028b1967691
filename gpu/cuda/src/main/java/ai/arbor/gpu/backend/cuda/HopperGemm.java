package ai.arbor.gpu.backend.cuda;

import java.util.List;

import jcuda.driver.CUdeviceptr;

/**
 * The wgmma GEMM of hopper_gemm.cu (compute capability 9.0 only): which of its kernels a matmul takes, and its launch.
 * Each block owns an output tile of {@code rows x width}, or one K slice of it when {@code split > 1} (the slices of a
 * tile form one cluster and reduce through distributed shared memory), one block per SM.
 *
 * <p>The plan: with enough row tiles the column width that fills the last wave best (the prefill case); when the
 * tiles cannot keep most SMs busy (decode batches, short steps, narrow outputs such as o and down), 64-row tiles for
 * up to 64 rows and split-K clusters, the fewest splits that give most SMs a block.
 */
final class HopperGemm {
    static final int THREADS = 256;
    /** Columns of K per ring stage (one 128-byte swizzle row of bf16). */
    static final int K_TILE = 64;
    /** Rows up to which the 64-row tiles are used. */
    static final int SMALL_ROWS = 64;
    /** Share of the SMs a plan wants busy before it stops adding splits. */
    private static final double BUSY = 0.7;

    /**
     * One kernel of hopper_gemm.cu: its macro line there must say the same. w8: W as FP8 codes with per-column scales
     * (x as hi + lo); keep: wgmma groups kept in flight.
     */
    record Kernel(String name, int rows, int width, int split, int stages, int keep, boolean lo, boolean w8) {
        /** The ring of [x hi | x lo | W (| W codes)] stages, plus 1 KB to align it to 1 KB. */
        int sharedBytes() {
            return stages * ((lo ? 2 : 1) * rows + width + (w8 ? width / 2 : 0)) * 128 + 1024;
        }

        int blocks(int n, int out) {
            return (n + rows - 1) / rows * ((out + width - 1) / width) * split;
        }
    }

    private static Kernel bf16(String name, int rows, int width, int split, int stages, boolean lo) {
        return new Kernel(name, rows, width, split, stages, 1, lo, false);
    }

    private static Kernel fp8(String name, int rows, int width, int split, int stages, int keep) {
        return new Kernel(name, rows, width, split, stages, keep, true, true);
    }

    /** The production kernels, as hopper_gemm.cu's HOPPER_GEMM* lines define them. */
    static final List<Kernel> KERNELS = List.of(
            bf16("hopper_gemm_n256", 128, 256, 1, 3, true),
            bf16("hopper_gemm_n192", 128, 192, 1, 4, true),
            bf16("hopper_gemm_n128", 128, 128, 1, 4, true),
            bf16("hopper_gemm_n256_hi", 128, 256, 1, 4, false),
            bf16("hopper_gemm_n192_hi", 128, 192, 1, 5, false),
            bf16("hopper_gemm_n128_hi", 128, 128, 1, 6, false),
            bf16("hopper_gemm_m64_n256", 64, 256, 1, 4, true),
            bf16("hopper_gemm_m64_n128", 64, 128, 1, 6, true),
            bf16("hopper_gemm_m64_n128_s2", 64, 128, 2, 4, true),
            bf16("hopper_gemm_m64_n128_s4", 64, 128, 4, 4, true),
            bf16("hopper_gemm_m64_n128_s8", 64, 128, 8, 4, true),
            bf16("hopper_gemm_n128_s2", 128, 128, 2, 4, true),
            bf16("hopper_gemm_n128_s4", 128, 128, 4, 4, true),
            bf16("hopper_gemm_n128_s8", 128, 128, 8, 4, true),
            fp8("hopper_gemm_n256_w8", 128, 256, 1, 2, 0),
            fp8("hopper_gemm_n192_w8", 128, 192, 1, 3, 1),
            fp8("hopper_gemm_n128_w8", 128, 128, 1, 4, 1),
            fp8("hopper_gemm_m64_n256_w8", 64, 256, 1, 3, 1),
            fp8("hopper_gemm_m64_n128_w8", 64, 128, 1, 5, 1),
            fp8("hopper_gemm_m64_n128_s2_w8", 64, 128, 2, 4, 1),
            fp8("hopper_gemm_m64_n128_s4_w8", 64, 128, 4, 4, 1),
            fp8("hopper_gemm_m64_n128_s8_w8", 64, 128, 8, 4, 1),
            fp8("hopper_gemm_n128_s2_w8", 128, 128, 2, 4, 1),
            fp8("hopper_gemm_n128_s4_w8", 128, 128, 4, 4, 1),
            fp8("hopper_gemm_n128_s8_w8", 128, 128, 8, 4, 1));

    /** hopper_gemm_tma.cuh's kernels: 128-row tiles, three warpgroups (a producer and two consumers). */
    record TmaKernel(String name, int width, int stages, boolean lo) {
        static final int THREADS = 384;

        /** The ring, 16 bytes of mbarriers a stage, and 1 KB to align the ring to 1 KB. */
        int sharedBytes() {
            return stages * ((lo ? 2 : 1) * 128 + width) * 128 + 16 * stages + 1024;
        }
    }

    /** As hopper_gemm_tma.cuh's HOPPER_GEMM_TMA lines define them. */
    static final List<TmaKernel> TMA_KERNELS = List.of(
            new TmaKernel("hopper_gemm_tma_n256", 256, 3, true),
            new TmaKernel("hopper_gemm_tma_n128", 128, 4, true),
            new TmaKernel("hopper_gemm_tma_n256_hi", 256, 4, false),
            new TmaKernel("hopper_gemm_tma_n128_hi", 128, 6, false));

    /** The TMA kernel for these rows: the 256-column one when it takes no more waves than the 128-column one. */
    static TmaKernel tmaPlan(int n, int out, int sms, boolean lo) {
        long rowTiles = (n + 127) / 128;
        long waves256 = (rowTiles * ((out + 255) / 256) + sms - 1) / sms;
        long waves128 = (rowTiles * ((out + 127) / 128) + sms - 1) / sms;
        int width = waves256 * 256 <= waves128 * 128 ? 256 : 128;
        for (TmaKernel k : TMA_KERNELS) if (k.width == width && k.lo == lo) return k;
        throw new IllegalStateException("no TMA kernel of width " + width);
    }

    /** {@link #launch} through the TMA kernels (bf16 weights); tensor maps for x (n rows) and W (out rows). */
    static void launchTma(CudaDevice dev, boolean lo, CUdeviceptr xHi, CUdeviceptr xLo, CUdeviceptr w, CUdeviceptr bias,
                          CUdeviceptr y, int n, int in, int out, boolean accumulate) {
        TmaKernel k = tmaPlan(n, out, dev.multiprocessors, lo);
        byte[] hi = TensorMaps.bf16Rows(xHi, n, in, 128);
        byte[] lower = lo ? TensorMaps.bf16Rows(xLo, n, in, 128) : hi; // unused by the _hi kernels
        int blocks = (n + 127) / 128 * ((out + k.width - 1) / k.width);
        dev.launchShared(k.name, blocks, 1, 1, TmaKernel.THREADS, k.sharedBytes(), hi, lower,
                TensorMaps.bf16Rows(w, out, in, k.width), bias, y, n, in, out, accumulate ? 1 : 0);
    }

    /** Column widths of the unsplit 128-row kernels, widest first (wider tiles read shared memory less per MMA). */
    private static final int[] WIDTHS = {256, 192, 128};

    private HopperGemm() {}

    static Kernel kernel(int rows, int width, int split, boolean lo, boolean w8) {
        for (Kernel k : KERNELS) {
            if (k.rows == rows && k.width == width && k.split == split && k.lo == lo && k.w8 == w8) return k;
        }
        throw new IllegalArgumentException("no hopper_gemm kernel of " + rows + " x " + width + ", split " + split
                + (lo ? ", hi + lo" : ", hi only") + (w8 ? ", fp8 weights" : ""));
    }

    /** The kernel for n rows of x times W [out, in] (w8: W as FP8 codes, whose kernels all take x as hi + lo). */
    static Kernel plan(int n, int in, int out, int sms, boolean lo, boolean w8) {
        boolean hiLo = lo || w8;
        Kernel whole = kernel(128, width(n, out, sms), 1, hiLo, w8);
        if (!hiLo) return whole; // the hi-only kernels have no 64-row or split form
        int rows = n <= SMALL_ROWS ? 64 : 128;
        if (rows == 128 && whole.blocks(n, out) >= BUSY * sms) return whole;
        Kernel narrow = kernel(rows, 128, 1, true, w8);
        // more 128-column tiles than SMs: a second, mostly empty wave; the wide tiles take one
        if (narrow.blocks(n, out) > sms) return rows == 64 ? kernel(64, 256, 1, true, w8) : whole;
        Kernel best = narrow;
        for (int s = 2; s <= 8 && in / K_TILE / s >= 2 && best.blocks(n, out) < BUSY * sms; s *= 2) {
            Kernel k = kernel(rows, 128, s, true, w8);
            if (k.blocks(n, out) > sms) break;
            best = k;
        }
        return best;
    }

    /**
     * The column width of the unsplit 128-row kernels whose grid takes the fewest tile-columns per SM: waves (of one
     * block per SM) times width, ties to the wider tile.
     */
    static int width(int n, int out, int sms) {
        long rowTiles = (n + 127) / 128;
        int best = WIDTHS[0];
        long bestCost = Long.MAX_VALUE;
        for (int bn : WIDTHS) {
            long tiles = rowTiles * ((out + bn - 1) / bn);
            long cost = (tiles + sms - 1) / sms * bn;
            if (cost < bestCost) {
                best = bn;
                bestCost = cost;
            }
        }
        return best;
    }

    /**
     * {@code y = x W^T + bias (+ y when accumulate)}, x given as xHi (+ xLo) rows; rows beyond n are not read. scales:
     * W is FP8 codes scaled per output column (null: W is bf16).
     */
    static void launch(CudaDevice dev, boolean lo, CUdeviceptr xHi, CUdeviceptr xLo, CUdeviceptr w, CUdeviceptr scales,
                       CUdeviceptr bias, CUdeviceptr y, int n, int in, int out, boolean accumulate) {
        Kernel k = plan(n, in, out, dev.multiprocessors, lo, scales != null);
        dev.launchShared(k.name, k.blocks(n, out), 1, 1, THREADS, k.sharedBytes(), xHi, k.lo ? xLo : null, w, scales,
                bias, y, n, in, out, accumulate ? 1 : 0);
    }
}
