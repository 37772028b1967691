package ai.arbor.gpu.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * The wgmma GEMM of hopper_gemm.cu (compute capability 9.0 only): which of its kernels a shape takes, and its launch.
 * Each block owns a whole 128-row x {@code bn}-column output tile, so the grid is {@code ceil(n / 128) * ceil(out /
 * bn)} blocks of one per SM, and the column width is chosen so that the last wave is as full as possible.
 */
final class HopperGemm {
    static final int ROWS_PER_TILE = 128;
    static final int THREADS = 256;
    /** Column widths with a kernel, widest first (wider tiles read shared memory less per MMA). */
    private static final int[] WIDTHS = {256, 192, 128};

    private HopperGemm() {}

    /** The kernel for this column width and x operand (hi + lo, or hi only: name suffix _hi). */
    static String kernel(int bn, boolean lo) {
        return "hopper_gemm_n" + bn + (lo ? "" : "_hi");
    }

    /** hopper_gemm.cu's ring depth for its production kernels: as many stages as fit 227 KB. */
    static int stages(int bn, boolean lo) {
        return lo ? (bn == 256 ? 3 : 4) : (bn == 256 ? 4 : bn == 192 ? 5 : 6);
    }

    /** Dynamic shared memory: the ring of [x hi | x lo | W] tiles of 64 columns, plus 1 KB to align it to 1 KB. */
    static int sharedBytes(int bn, boolean lo) {
        return stages(bn, lo) * ((lo ? 2 : 1) * ROWS_PER_TILE + bn) * 128 + 1024;
    }

    /**
     * The column width whose grid takes the fewest tile-columns per SM: waves (of one block per SM) times width, ties
     * to the wider tile.
     */
    static int width(int n, int out, int sms) {
        long rowTiles = (n + ROWS_PER_TILE - 1) / ROWS_PER_TILE;
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

    /** {@code y = x W^T + bias (+ y when accumulate)}, x given as xHi (+ xLo) rows; rows beyond n are not read. */
    static void launch(CudaDevice dev, boolean lo, CUdeviceptr xHi, CUdeviceptr xLo, CUdeviceptr w, CUdeviceptr bias,
                       CUdeviceptr y, int n, int in, int out, boolean accumulate) {
        int bn = width(n, out, dev.multiprocessors);
        long blocks = (long) (n + ROWS_PER_TILE - 1) / ROWS_PER_TILE * ((out + bn - 1) / bn);
        dev.launchShared(kernel(bn, lo), (int) blocks, 1, 1, THREADS, sharedBytes(bn, lo), xHi, xLo, w, bias, y, n, in,
                out, accumulate ? 1 : 0);
    }
}
