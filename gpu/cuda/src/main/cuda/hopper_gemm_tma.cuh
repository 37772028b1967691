// hopper_gemm.cu's 128-row tiles fed by the tensor memory accelerator instead of cp.async, with warp specialization
// (part of hopper_gemm.cu's module; CudaTuning.hopperGemmTma, off until a device run times it). Three warpgroups:
// warpgroup 0 produces (one thread issues each stage's bulk tensor copies, which complete on the stage's "full"
// mbarrier with their byte count), warpgroups 1 and 2 consume (each m64 x BN with the same wgmma as hopper_gemm, then
// release the stage of the tile before on its "empty" mbarrier once that tile's MMAs have retired). No __syncthreads
// in the main loop, and the producer's registers go to the consumers (setmaxnreg). The shared-memory tiles are the
// same 128-byte-swizzled K-major layout, which TMA writes itself with CU_TENSOR_MAP_SWIZZLE_128B, so the wgmma
// descriptors do not change; rows beyond n (and W rows beyond out) arrive as zeros. Why: the cp.async kernel spends
// every thread on address math and waits at a block barrier per K tile. The tensor maps (TensorMaps.java:
// cuTensorMapEncodeTiled through JNA, which JCuda 12.6 lacks) are kernel parameters. Included at the end of
// hopper_gemm.cu (hg:: helpers).
#pragma once
#include <cuda.h>

namespace hgt {
using namespace hg;
constexpr int THREADS = 384;
constexpr int BK = hg::BK; // stream_gemm.cu, in the same lab binary, has a BK of its own

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count));
}
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
    asm volatile("{\n.reg .pred p;\nWAIT_%=:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n"
                 "@!p bra WAIT_%=;\n}\n" ::"r"(bar), "r"(parity) : "memory");
}
// the box at (inner coordinate c0, outer c1) of the tensor map into shared memory at dst, counted on bar
__device__ __forceinline__ void tma_2d(uint32_t dst, const CUtensorMap* map, int c0, int c1, uint32_t bar) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
                 ::"r"(dst), "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(bar) : "memory");
}

template <int BN, int STAGES, bool LO>
__device__ __forceinline__ void gemm_tma(const CUtensorMap* xhi, const CUtensorMap* xlo, const CUtensorMap* w,
                                         const float* __restrict__ bias, float* __restrict__ y, int n, int in, int out,
                                         int accumulate) {
    constexpr int BM = 128;
    constexpr int X_BYTES = BM * BK * 2, W_BYTES = BN * BK * 2;
    constexpr int W_OFF = (LO ? 2 : 1) * X_BYTES;
    constexpr int STAGE_BYTES = W_OFF + W_BYTES;
    extern __shared__ unsigned char smem[];
    const uint32_t base = (smem_addr(smem) + 1023) & ~1023u; // the host adds 1024 bytes of slack
    const uint32_t full = base + STAGES * STAGE_BYTES, empty = full + 8 * STAGES;

    const int tid = threadIdx.x, wg = tid >> 7;
    const int mtiles = (n + BM - 1) / BM;
    const int m0 = (int)(blockIdx.x % mtiles) * BM, n0 = (int)(blockIdx.x / mtiles) * BN;
    const int kts = in / BK;
    if (tid == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(full + 8 * s, 1);  // the producer's arrive, plus the copies' bytes
            mbar_init(empty + 8 * s, 2); // one arrive per consumer warpgroup
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();

    if (wg == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
        if (tid == 0) {
            for (int i = 0; i < kts; i++) {
                const int slot = i % STAGES;
                if (i >= STAGES) mbar_wait(empty + 8 * slot, ((i / STAGES) & 1) ^ 1);
                const uint32_t s = base + slot * STAGE_BYTES, bar = full + 8 * slot;
                mbar_expect_tx(bar, STAGE_BYTES);
                tma_2d(s, xhi, i * BK, m0, bar);
                if (LO) tma_2d(s + X_BYTES, xlo, i * BK, m0, bar);
                tma_2d(s + W_OFF, w, i * BK, n0, bar);
            }
        }
        return;
    }
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n");
    const int cw = wg - 1; // this consumer's 64 rows
    float acc[BN / 2];
#pragma unroll
    for (int i = 0; i < BN / 2; i++) acc[i] = 0.f;
    for (int i = 0; i < kts; i++) {
        const int slot = i % STAGES;
        mbar_wait(full + 8 * slot, (i / STAGES) & 1);
        const uint32_t s = base + slot * STAGE_BYTES;
        const uint32_t xa = s + cw * 64 * 128, wb = s + W_OFF;
        mma_stage<BN, LO, X_BYTES>(acc, xa, wb);
        wgmma_wait<1>(); // tile i - 1's MMAs have read their stage
        fence_operands(acc);
        if (i > 0 && (tid & 127) == 0) mbar_arrive(empty + 8 * ((i - 1) % STAGES));
    }
    wgmma_wait<0>();
    fence_operands(acc);

    const int lane = tid & 31, q = (tid >> 5) & 3;
    const int row = m0 + cw * 64 + q * 16 + (lane >> 2);
#pragma unroll
    for (int j = 0; j < BN / 8; j++) {
        const int o = n0 + 8 * j + 2 * (lane & 3);
        if (o < out) {
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
} // namespace hgt

// Shared memory: STAGES * ((LO ? 2 : 1) * 128 + BN) * 128 + 16 * STAGES (barriers) + 1024 (alignment slack)
#define HOPPER_GEMM_TMA(NAME, BN, STAGES, LO)                                                                       \
    extern "C" __global__ void __launch_bounds__(hgt::THREADS, 1)                                                   \
    NAME(const __grid_constant__ CUtensorMap xhi, const __grid_constant__ CUtensorMap xlo,                         \
         const __grid_constant__ CUtensorMap w, const float* bias, float* y, int n, int in, int out, int accumulate) { \
        pdl_enter();                                                                                               \
        hgt::gemm_tma<BN, STAGES, LO>(&xhi, &xlo, &w, bias, y, n, in, out, accumulate);                             \
    }
HOPPER_GEMM_TMA(hopper_gemm_tma_n256, 256, 3, true)
HOPPER_GEMM_TMA(hopper_gemm_tma_n128, 128, 4, true)
HOPPER_GEMM_TMA(hopper_gemm_tma_n256_hi, 256, 4, false)
HOPPER_GEMM_TMA(hopper_gemm_tma_n128_hi, 128, 6, false)
