// y[t, o] (+)= x[t, :] . W[o, :] + bias[o] for many rows (prefill chunks, large batches) on Hopper's warpgroup MMA
// (wgmma). Compiled for sm_90a only (its own PTX module, loaded on compute capability 9.0); stream_gemm.cu stays
// the path for decode batches and other GPUs.
//
// Why a second GEMM: stream_gemm cuts rows into slices of at most 64 and streams every weight once per slice, so a
// 2048-token prefill reads each weight 32 times through mma.sync. Here each block owns a whole output tile of
// BM = 128 rows x BN output columns (no split-K, no atomics): two warpgroups each multiply m64 x BN with
// wgmma.m64nBNk16, both operands read by the tensor cores straight from shared memory. x (bf16 hi, and with LO also
// lo: x ~= hi + lo, one more MMA per step) is the A operand, W ([out, in], PyTorch layout) the B operand: both
// K-major, the "TN" case that needs no transpose.
//
// Shared memory: a STAGES-deep ring of [x hi | x lo | W] tiles, 64 of `in` each, i.e. one 128-byte row segment per
// row, stored in the 128-byte swizzle layout (16-byte chunk c of row r at r * 128 + (c ^ (r & 7)) * 16, tiles
// 1024-byte aligned) that the wgmma descriptors name. All 256 threads fill it with 16-byte cp.async (JCuda has no
// cuTensorMapEncodeTiled for TMA). KEEP wgmma groups stay in flight while the next iteration waits for its tile, so
// the ring refills the slot of tile kt - 1 - KEEP and the prefetch distance is STAGES - 1 - KEEP tiles.
//
// Rows of x beyond n are read as zeros (cp.async zero-fill), so the caller's padding is not relied on; rows of W
// beyond `out` read row out - 1 and their columns are dropped. Needs in % 64 == 0, out % 16 == 0 (BN need not
// divide out). y is written, not added to with atomics: y = acc + bias, plus y's old value when accumulate != 0.
#include <cuda_bf16.h>
#include <stdint.h>

#include "hopper_wgmma.cuh"

namespace hg {
constexpr int BM = 128;     // rows of x per tile: two warpgroups of m64
constexpr int BK = 64;      // reduction depth per stage: 64 bf16 = one 128-byte swizzle atom row
constexpr int THREADS = 256;

__device__ __forceinline__ uint32_t smem_addr(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

// valid == false: the 16 bytes become zeros and src is not read (it must still be a mapped address)
__device__ __forceinline__ void cp16(uint32_t dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }

__device__ __forceinline__ uint32_t swz(int r, int c) { return (uint32_t)(r * 128 + ((c ^ (r & 7)) << 4)); }

// wgmma matrix descriptor of a K-major tile in the 128-byte swizzle layout starting at shared address addr:
// bits 0-13 address >> 4; 16-29 leading byte offset >> 4 (unused by swizzled K-major layouts, 1 by convention);
// 32-45 stride byte offset >> 4 = 1024 bytes from one 8-row group to the next; 49-51 base offset 0 (the tiles are
// 1024-byte aligned); 62-63 layout 1 = 128-byte swizzle. Stepping K by 16 inside the atom adds 32 bytes to addr.
__device__ __forceinline__ uint64_t desc_sw128(uint32_t addr) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
// cp.async writes shared memory through the generic proxy and wgmma reads it through the async proxy: each writer
// fences its own writes before the barrier that publishes them.
__device__ __forceinline__ void fence_async_smem() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

// Ties the accumulators to an ordering point: the compiler may not move their reads (epilogue) above the wgmma wait
// before it, nor their zeroing below the first wgmma after it.
template <int R>
__device__ __forceinline__ void fence_operands(float (&d)[R]) {
#pragma unroll
    for (int i = 0; i < R; i++) asm volatile("" : "+f"(d[i])::"memory");
}

template <int BN>
__device__ __forceinline__ void wgmma(float (&d)[BN / 2], uint64_t da, uint64_t db) {
    if constexpr (BN == 256) wgmma_m64n256k16(d, da, db);
    else if constexpr (BN == 192) wgmma_m64n192k16(d, da, db);
    else wgmma_m64n128k16(d, da, db);
}

template <int BN, int STAGES, int KEEP, bool LO>
__device__ __forceinline__ void hopper_gemm(const __nv_bfloat16* __restrict__ xhi, const __nv_bfloat16* __restrict__ xlo,
                                            const __nv_bfloat16* __restrict__ w, const float* __restrict__ bias,
                                            float* __restrict__ y, int n, int in, int out, int accumulate) {
    static_assert(BN == 128 || BN == 192 || BN == 256, "wgmma wrappers exist for n128, n192, n256");
    constexpr int X_BYTES = BM * BK * 2;
    constexpr int W_BYTES = BN * BK * 2;
    constexpr int W_OFF = (LO ? 2 : 1) * X_BYTES;
    constexpr int STAGE_BYTES = W_OFF + W_BYTES; // a multiple of 1024: every tile stays swizzle-atom aligned
    constexpr int D = STAGES - 1 - KEEP;         // prefetch distance in tiles
    static_assert(D >= 1, "the ring needs a slot beyond the tiles being read");
    constexpr int XJ = BM / 32, WJ = BN / 32;    // 16-byte chunks per thread per tile: 32 rows x 8 chunks a pass
    extern __shared__ unsigned char smem[];
    const uint32_t base = (smem_addr(smem) + 1023) & ~1023u; // the host adds 1024 bytes of slack

    const int tid = threadIdx.x, wg = tid >> 7;
    const int mtiles = (n + BM - 1) / BM;
    // m fastest: the blocks resident at once share a few W column tiles (streamed from DRAM about once) and read
    // x, a few MB, from L2
    const int m0 = (int)(blockIdx.x % mtiles) * BM, n0 = (int)(blockIdx.x / mtiles) * BN;
    const int kts = in / BK;
    const int c = tid & 7, r0 = tid >> 3;

    size_t xoff[XJ], woff[WJ];
    bool xok[XJ];
#pragma unroll
    for (int j = 0; j < XJ; j++) {
        int t = m0 + r0 + 32 * j;
        xok[j] = t < n;
        xoff[j] = (size_t)min(t, n - 1) * in + c * 8;
    }
#pragma unroll
    for (int j = 0; j < WJ; j++) woff[j] = (size_t)min(n0 + r0 + 32 * j, out - 1) * in + c * 8;

    auto load = [&](int kt, int slot) {
        const uint32_t s = base + slot * STAGE_BYTES;
        const int k = kt * BK;
#pragma unroll
        for (int j = 0; j < XJ; j++) {
            uint32_t dst = s + swz(r0 + 32 * j, c);
            cp16(dst, xhi + xoff[j] + k, xok[j]);
            if (LO) cp16(dst + X_BYTES, xlo + xoff[j] + k, xok[j]);
        }
#pragma unroll
        for (int j = 0; j < WJ; j++) cp16(s + W_OFF + swz(r0 + 32 * j, c), w + woff[j] + k, true);
    };

    float acc[BN / 2];
#pragma unroll
    for (int i = 0; i < BN / 2; i++) acc[i] = 0.f;

#pragma unroll
    for (int s = 0; s < D; s++) {
        if (s < kts) load(s, s);
        cp_commit(); // empty groups keep the count uniform for cp_wait
    }
    for (int kt = 0; kt < kts; kt++) {
        cp_wait<D - 1>(); // this thread's copies of tile kt have landed
        fence_async_smem();
        __syncthreads(); // everyone's have; every warpgroup has retired its wgmma of tile kt - 1 - KEEP
        if (kt + D < kts) load(kt + D, (kt + D) % STAGES);
        cp_commit();

        const uint32_t s = base + (kt % STAGES) * STAGE_BYTES;
        const uint32_t xa = s + wg * 64 * 128; // this warpgroup's 64 rows
        const uint32_t wb = s + W_OFF;
        fence_operands(acc);
        wgmma_fence();
#pragma unroll
        for (int ks = 0; ks < BK / 16; ks++) {
            wgmma<BN>(acc, desc_sw128(xa + 32 * ks), desc_sw128(wb + 32 * ks));
            if (LO) wgmma<BN>(acc, desc_sw128(xa + X_BYTES + 32 * ks), desc_sw128(wb + 32 * ks));
        }
        wgmma_commit();
        wgmma_wait<KEEP>();
        fence_operands(acc);
    }
    wgmma_wait<0>();
    fence_operands(acc);

    // accumulator layout of wgmma m64nN (fp32): warp q of the warpgroup holds rows 16q + lane / 4 (acc[4j], acc[4j+1])
    // and 16q + 8 + lane / 4 (acc[4j+2], acc[4j+3]) at columns 8j + 2 (lane % 4) and + 1
    const int lane = tid & 31, q = (tid >> 5) & 3;
    const int row = m0 + wg * 64 + q * 16 + (lane >> 2);
#pragma unroll
    for (int j = 0; j < BN / 8; j++) {
        const int o = n0 + 8 * j + 2 * (lane & 3);
        if (o < out) { // out % 16 == 0 and o is even, so o + 1 < out as well
            float2 b = bias ? *reinterpret_cast<const float2*>(bias + o) : make_float2(0.f, 0.f);
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int t = row + 8 * h;
                if (t < n) {
                    float2* p = reinterpret_cast<float2*>(y + (size_t)t * out + o);
                    float2 v = make_float2(acc[4 * j + 2 * h] + b.x, acc[4 * j + 2 * h + 1] + b.y);
                    if (accumulate) {
                        float2 old = *p;
                        v.x += old.x;
                        v.y += old.y;
                    }
                    *p = v;
                }
            }
        }
    }
}
} // namespace hg

// Shared memory bytes per block (HopperGemm.java keeps the same figure): STAGES * ((LO ? 2 : 1) * 128 + BN) * 128
// + 1024 (alignment slack). Grid: ceil(n / 128) * ceil(out / BN) blocks of 256 threads.
#define HOPPER_GEMM(NAME, BN, STAGES, KEEP, LO)                                                                      \
    extern "C" __global__ void __launch_bounds__(hg::THREADS, 1)                                                    \
    NAME(const __nv_bfloat16* xhi, const __nv_bfloat16* xlo, const __nv_bfloat16* w, const float* bias, float* y,  \
         int n, int in, int out, int accumulate) {                                                                  \
        hg::hopper_gemm<BN, STAGES, KEEP, LO>(xhi, xlo, w, bias, y, n, in, out, accumulate);                        \
    }
// The production kernels (HopperGemm.KERNELS): x as hi + lo (as exact as stream_gemm) or hi only (_hi: bf16 x, what
// vLLM does), for BN = 256, 192, 128; the most stages that fit 227 KB with one wgmma group kept in flight.
HOPPER_GEMM(hopper_gemm_n256, 256, 3, 1, true)
HOPPER_GEMM(hopper_gemm_n192, 192, 4, 1, true)
HOPPER_GEMM(hopper_gemm_n128, 128, 4, 1, true)
HOPPER_GEMM(hopper_gemm_n256_hi, 256, 4, 1, false)
HOPPER_GEMM(hopper_gemm_n192_hi, 192, 5, 1, false)
HOPPER_GEMM(hopper_gemm_n128_hi, 128, 6, 1, false)
// for the lab's comparison (gpu/cuda/src/lab/gemm_lab.cu): no wgmma group in flight across iterations, one more tile
// of prefetch instead (n256 with lo has only one otherwise)
HOPPER_GEMM(hopper_gemm_n256_k0, 256, 3, 0, true)
HOPPER_GEMM(hopper_gemm_n256_hi_k0, 256, 4, 0, false)
