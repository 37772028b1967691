// y[t, o] (+)= x[t, :] . W[o, :] + bias[o] on Hopper's warpgroup MMA (wgmma). Compiled for sm_90a only (its own PTX
// module, loaded on compute capability 9.0); stream_gemm.cu stays the path on other GPUs and below
// CudaTuning.hopperGemmRows rows.
//
// Why a second GEMM: stream_gemm cuts rows into slices of at most 64 and streams every weight once per slice, so a
// 2048-token prefill reads each weight 32 times through mma.sync. Here each block owns a whole output tile of
// BM = 128 (or 64) rows x BN output columns, or one K slice of it in a split-K cluster (no atomics either way): two
// warpgroups multiply with wgmma.m64nNk16, both operands read by the tensor cores straight from shared memory.
// x (bf16 hi, and with LO also lo: x ~= hi + lo, one more MMA per step) is the A operand, W ([out, in], PyTorch
// layout) the B operand: both K-major, the "TN" case that needs no transpose.
//
// Shared memory: a STAGES-deep ring of [x hi | x lo | W] tiles, 64 of `in` each, i.e. one 128-byte row segment per
// row, stored in the 128-byte swizzle layout (16-byte chunk c of row r at r * 128 + (c ^ (r & 7)) * 16, tiles
// 1024-byte aligned) that the wgmma descriptors name. All 256 threads fill it with 16-byte cp.async (JCuda has no
// cuTensorMapEncodeTiled for TMA). KEEP wgmma groups stay in flight while the next iteration waits for its tile, so
// the ring refills the slot of tile kt - 1 - KEEP and the prefetch distance is STAGES - 1 - KEEP tiles.
//
// Rows of x beyond n are read as zeros (cp.async zero-fill), so the caller's padding is not relied on; rows of W
// beyond `out` read row out - 1 and their columns are dropped. Needs in % 64 == 0, out % 16 == 0 (BN need not
// divide out). y is written, not added to with atomics: y = acc + bias (acc times the column's scale with FP8
// weights), plus y's old value when accumulate != 0.
#include <cooperative_groups.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <stdint.h>

#include "hopper_wgmma.cuh"
#include "pdl.cuh"

namespace cg = cooperative_groups;

namespace hg {
constexpr int BK = 64;      // reduction depth per stage: 64 bf16 = one 128-byte swizzle atom row
constexpr int THREADS = 256;

__device__ __forceinline__ uint32_t smem_addr(const void* p) { return (uint32_t)__cvta_generic_to_shared(p); }

// Eight E4M3 codes as eight bf16 (exact: 3 mantissa bits and exponents 2^-9..2^8 fit bf16)
__device__ __forceinline__ uint4 fp8x8_to_bf16(uint2 raw) {
    const __nv_fp8x2_storage_t* p = reinterpret_cast<const __nv_fp8x2_storage_t*>(&raw);
    uint4 o;
    __nv_bfloat162* h = reinterpret_cast<__nv_bfloat162*>(&o);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        __half2_raw r = __nv_cvt_fp8x2_to_halfraw2(p[i], __NV_E4M3);
        h[i] = __float22bfloat162_rn(__half22float2(*reinterpret_cast<__half2*>(&r)));
    }
    return o;
}

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
    else if constexpr (BN == 128) wgmma_m64n128k16(d, da, db);
    else if constexpr (BN == 96) wgmma_m64n96k16(d, da, db);
    else wgmma_m64n64k16(d, da, db);
}

// One BK-deep stage of a warpgroup's MMAs, committed as one wgmma group: x (hi, and lo at X_BYTES after it) times the
// W tile, both in the 128-byte swizzle layout. The caller waits for the group as its pipeline allows.
template <int N, bool LO, int X_BYTES>
__device__ __forceinline__ void mma_stage(float (&acc)[N / 2], uint32_t xa, uint32_t wb) {
    fence_operands(acc);
    wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < BK / 16; ks++) {
        wgmma<N>(acc, desc_sw128(xa + 32 * ks), desc_sw128(wb + 32 * ks));
        if (LO) wgmma<N>(acc, desc_sw128(xa + X_BYTES + 32 * ks), desc_sw128(wb + 32 * ks));
    }
    wgmma_commit();
}

// The epilogue of a split-K cluster: the SPLIT blocks of one output tile (one cluster, rank = K slice) each leave
// their fp32 partial tile in their own shared memory; rank r then sums rows [r BM / SPLIT, (r + 1) BM / SPLIT) of
// all SPLIT partials through distributed shared memory, always in rank order, so the result does not depend on
// which block finished first (no atomics: the same inputs give the same bits).
template <int BM, int BN, int SPLIT>
__device__ __forceinline__ void reduce_cluster(float* red, const float* __restrict__ scales,
                                               const float* __restrict__ bias, float* __restrict__ y, int m0, int n0,
                                               int n, int out, int accumulate) {
    constexpr int RS = BN + 8; // row stride of the partial tile: the pad spreads a warp's 8 rows over the banks
    constexpr int RPR = BM / SPLIT;
    cg::cluster_group cluster = cg::this_cluster();
    cluster.sync(); // every rank's partial is in its shared memory
    const int rank = (int)cluster.block_rank();
    for (int e = threadIdx.x; e < RPR * BN / 4; e += THREADS) {
        const int r = rank * RPR + e / (BN / 4), c = (e % (BN / 4)) * 4;
        float4 sum = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int s = 0; s < SPLIT; s++) {
            const float4 p = *reinterpret_cast<const float4*>(cluster.map_shared_rank(red, s) + r * RS + c);
            sum.x += p.x;
            sum.y += p.y;
            sum.z += p.z;
            sum.w += p.w;
        }
        const int t = m0 + r, o = n0 + c;
        if (t < n && o < out) { // out % 16 == 0 and o % 4 == 0: o + 3 < out as well
            float v[4] = {sum.x, sum.y, sum.z, sum.w};
            float2* p = reinterpret_cast<float2*>(y + (size_t)t * out + o);
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float2 b = bias ? *reinterpret_cast<const float2*>(bias + o + 2 * h) : make_float2(0.f, 0.f);
                float2 sc = scales ? *reinterpret_cast<const float2*>(scales + o + 2 * h) : make_float2(1.f, 1.f);
                float2 u = make_float2(v[2 * h] * sc.x + b.x, v[2 * h + 1] * sc.y + b.y);
                if (accumulate) {
                    float2 old = p[h];
                    u.x += old.x;
                    u.y += old.y;
                }
                p[h] = u;
            }
        }
    }
    cluster.sync(); // no block leaves (its shared memory gone) while another still reads it
}

// BM rows x BN columns per output tile. BM 128: two warpgroups, one per 64 rows, each m64 x BN. BM 64 (decode
// batches): the two warpgroups split the columns, each m64 x BN / 2, so no MMA is spent on rows that are not there.
// SPLIT > 1: the tile's K range is cut into SPLIT slices, one block each, the blocks of a tile one cluster
// (__cluster_dims__) that reduces through distributed shared memory: small outputs (o, down, q/k/v at decode) fill
// the SMs with it instead of leaving most of them idle.
// W8: W holds FP8 E4M3 codes with a scale per output column (row of W): each stage also carries the tile's 64-byte
// code rows, which the block widens into the bf16 swizzled tile before its MMAs; the scale multiplies the finished sum.
// The weights cross from DRAM at a byte each, which is what decode batches are bound by.
template <int BM, int BN, int SPLIT, int STAGES, int KEEP, bool LO, bool W8>
__device__ __forceinline__ void hopper_gemm(const __nv_bfloat16* __restrict__ xhi, const __nv_bfloat16* __restrict__ xlo,
                                            const void* __restrict__ wv, const float* __restrict__ scales,
                                            const float* __restrict__ bias, float* __restrict__ y, int n, int in,
                                            int out, int accumulate) {
    static_assert(BM == 64 || BM == 128, "one or two warpgroups of m64 rows");
    constexpr int WGM = BM / 64, NW = BN / (2 / WGM); // warpgroups along the rows; columns per warpgroup
    static_assert(NW == 64 || NW == 96 || NW == 128 || NW == 192 || NW == 256, "a wgmma wrapper for NW columns");
    constexpr int X_BYTES = BM * BK * 2;
    constexpr int W_BYTES = BN * BK * 2;
    constexpr int W_OFF = (LO ? 2 : 1) * X_BYTES;
    constexpr int W8_OFF = W_OFF + W_BYTES;      // W8: the tile's codes, 64 bytes a row, not swizzled
    constexpr int STAGE_BYTES = W8_OFF + (W8 ? BN * BK : 0); // a multiple of 1024: tiles stay swizzle-atom aligned
    constexpr int D = STAGES - 1 - KEEP;         // prefetch distance in tiles
    static_assert(D >= 1, "the ring needs a slot beyond the tiles being read");
    static_assert(SPLIT == 1 || STAGES * STAGE_BYTES >= BM * (BN + 8) * 4, "the partial tile reuses the ring");
    static_assert(BM % SPLIT == 0, "each rank reduces whole rows");
    constexpr int XJ = BM / 32, WJ = BN / 32;    // 16-byte chunks per thread per tile: 32 rows x 8 chunks a pass
    extern __shared__ unsigned char smem[];
    const uint32_t shift = ((smem_addr(smem) + 1023) & ~1023u) - smem_addr(smem); // the host adds 1024 bytes of slack
    const uint32_t base = smem_addr(smem) + shift;

    const int tid = threadIdx.x, wg = tid >> 7;
    const int mtiles = (n + BM - 1) / BM;
    // m fastest: the blocks resident at once share a few W column tiles (streamed from DRAM about once) and read
    // x, a few MB, from L2
    const int tile = (int)(blockIdx.x / SPLIT), rank = (int)(blockIdx.x % SPLIT);
    const int m0 = (tile % mtiles) * BM, n0 = (tile / mtiles) * BN;
    const int kts = in / BK;
    const int kt0 = rank * kts / SPLIT, nk = (rank + 1) * kts / SPLIT - kt0; // the host keeps kts >= SPLIT
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
    const __nv_bfloat16* w = static_cast<const __nv_bfloat16*>(wv);
    const uint8_t* w8 = static_cast<const uint8_t*>(wv);
    constexpr int W8J = BN / 64; // W8: 16-byte chunks of codes per thread per tile: 64 rows x 4 chunks a pass
    size_t w8off[W8J];
#pragma unroll
    for (int j = 0; j < W8J; j++) w8off[j] = (size_t)min(n0 + (tid >> 2) + 64 * j, out - 1) * in + (tid & 3) * 16;

    auto load = [&](int i, int slot) {
        const uint32_t s = base + slot * STAGE_BYTES;
        const int k = (kt0 + i) * BK;
#pragma unroll
        for (int j = 0; j < XJ; j++) {
            uint32_t dst = s + swz(r0 + 32 * j, c);
            cp16(dst, xhi + xoff[j] + k, xok[j]);
            if (LO) cp16(dst + X_BYTES, xlo + xoff[j] + k, xok[j]);
        }
        if constexpr (W8) {
#pragma unroll
            for (int j = 0; j < W8J; j++) cp16(s + W8_OFF + ((tid >> 2) + 64 * j) * 64 + (tid & 3) * 16, w8 + w8off[j] + k, true);
        } else {
#pragma unroll
            for (int j = 0; j < WJ; j++) cp16(s + W_OFF + swz(r0 + 32 * j, c), w + woff[j] + k, true);
        }
    };

    float acc[NW / 2];
#pragma unroll
    for (int i = 0; i < NW / 2; i++) acc[i] = 0.f;

#pragma unroll
    for (int s = 0; s < D; s++) {
        if (s < nk) load(s, s);
        cp_commit(); // empty groups keep the count uniform for cp_wait
    }
    for (int i = 0; i < nk; i++) {
        cp_wait<D - 1>(); // this thread's copies of tile i have landed
        fence_async_smem();
        __syncthreads(); // everyone's have; every warpgroup has retired its wgmma of tile i - 1 - KEEP
        if (i + D < nk) load(i + D, (i + D) % STAGES);
        cp_commit();
        if constexpr (W8) { // widen tile i's codes into its bf16 tile (its slot's last MMAs, tile i - STAGES, retired)
            unsigned char* sp = smem + shift + (i % STAGES) * STAGE_BYTES;
#pragma unroll
            for (int g = tid; g < BN * 8; g += THREADS) {
                const int row = g >> 3, cc = g & 7;
                *reinterpret_cast<uint4*>(sp + W_OFF + swz(row, cc)) =
                    fp8x8_to_bf16(*reinterpret_cast<const uint2*>(sp + W8_OFF + row * 64 + cc * 8));
            }
            fence_async_smem(); // generic stores, read next by the tensor cores
            __syncthreads();
        }

        const uint32_t s = base + (i % STAGES) * STAGE_BYTES;
        const uint32_t xa = s + (WGM == 2 ? wg * 64 * 128 : 0);           // this warpgroup's 64 rows
        const uint32_t wb = s + W_OFF + (WGM == 2 ? 0 : wg * NW * 128);   // and its NW columns
        mma_stage<NW, LO, X_BYTES>(acc, xa, wb);
        wgmma_wait<KEEP>();
        fence_operands(acc);
    }
    wgmma_wait<0>();
    fence_operands(acc);

    // accumulator layout of wgmma m64nN (fp32): warp q of the warpgroup holds rows 16q + lane / 4 (acc[4j], acc[4j+1])
    // and 16q + 8 + lane / 4 (acc[4j+2], acc[4j+3]) at columns 8j + 2 (lane % 4) and + 1
    const int lane = tid & 31, q = (tid >> 5) & 3;
    const int row = (WGM == 2 ? wg * 64 : 0) + q * 16 + (lane >> 2); // within the tile
    const int col = (WGM == 2 ? 0 : wg * NW) + 2 * (lane & 3);
    if constexpr (SPLIT > 1) {
        cp_wait<0>();
        __syncthreads(); // the ring is free: every warpgroup's MMAs have read their last tile
        float* red = reinterpret_cast<float*>(smem + shift);
#pragma unroll
        for (int j = 0; j < NW / 8; j++)
#pragma unroll
            for (int h = 0; h < 2; h++)
                *reinterpret_cast<float2*>(red + (row + 8 * h) * (BN + 8) + col + 8 * j) =
                    make_float2(acc[4 * j + 2 * h], acc[4 * j + 2 * h + 1]);
        reduce_cluster<BM, BN, SPLIT>(red, W8 ? scales : nullptr, bias, y, m0, n0, n, out, accumulate);
    } else {
#pragma unroll
        for (int j = 0; j < NW / 8; j++) {
            const int o = n0 + col + 8 * j;
            if (o < out) { // out % 16 == 0 and o is even, so o + 1 < out as well
                float2 b = bias ? *reinterpret_cast<const float2*>(bias + o) : make_float2(0.f, 0.f);
                float2 sc = W8 ? *reinterpret_cast<const float2*>(scales + o) : make_float2(1.f, 1.f);
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int t = m0 + row + 8 * h;
                    if (t < n) {
                        float2* p = reinterpret_cast<float2*>(y + (size_t)t * out + o);
                        float2 v = make_float2(acc[4 * j + 2 * h] * sc.x + b.x, acc[4 * j + 2 * h + 1] * sc.y + b.y);
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
}

} // namespace hg

// Shared memory bytes per block (HopperGemm.java keeps the same figure): STAGES * ((LO ? 2 : 1) * BM + BN + (W8 ? BN
// / 2 : 0)) * 128 + 1024 (alignment slack). Grid: ceil(n / BM) * ceil(out / BN) * SPLIT blocks of 256 threads, SPLIT a
// cluster. scales: W8's per-column scales (ignored, may be null, otherwise).
#define HOPPER_GEMM_DEF(NAME, ATTR, BM, BN, SPLIT, STAGES, KEEP, LO, W8)                                            \
    extern "C" __global__ void __launch_bounds__(hg::THREADS, 1) ATTR                                               \
    NAME(const __nv_bfloat16* xhi, const __nv_bfloat16* xlo, const void* w, const float* scales, const float* bias, \
         float* y, int n, int in, int out, int accumulate) { pdl_enter();                                           \
        hg::hopper_gemm<BM, BN, SPLIT, STAGES, KEEP, LO, W8>(xhi, xlo, w, scales, bias, y, n, in, out, accumulate); \
    }
#define HOPPER_GEMM(NAME, BM, BN, STAGES, KEEP, LO) HOPPER_GEMM_DEF(NAME, , BM, BN, 1, STAGES, KEEP, LO, false)
#define HOPPER_GEMM_SPLIT(NAME, BM, BN, SPLIT, STAGES, LO) \
    HOPPER_GEMM_DEF(NAME, __cluster_dims__(SPLIT, 1, 1), BM, BN, SPLIT, STAGES, 1, LO, false)
#define HOPPER_GEMM_W8(NAME, BM, BN, STAGES, KEEP) HOPPER_GEMM_DEF(NAME, , BM, BN, 1, STAGES, KEEP, true, true)
#define HOPPER_GEMM_SPLIT_W8(NAME, BM, BN, SPLIT, STAGES) \
    HOPPER_GEMM_DEF(NAME, __cluster_dims__(SPLIT, 1, 1), BM, BN, SPLIT, STAGES, 1, true, true)
// The production kernels (HopperGemm.KERNELS): x as hi + lo (as exact as stream_gemm) or hi only (_hi: bf16 x, what
// vLLM does), for BN = 256, 192, 128; the most stages that fit 227 KB with one wgmma group kept in flight.
HOPPER_GEMM(hopper_gemm_n256, 128, 256, 3, 1, true)
HOPPER_GEMM(hopper_gemm_n192, 128, 192, 4, 1, true)
HOPPER_GEMM(hopper_gemm_n128, 128, 128, 4, 1, true)
HOPPER_GEMM(hopper_gemm_n256_hi, 128, 256, 4, 1, false)
HOPPER_GEMM(hopper_gemm_n192_hi, 128, 192, 5, 1, false)
HOPPER_GEMM(hopper_gemm_n128_hi, 128, 128, 6, 1, false)
// Fewer rows than SMs have work for (decode batches, short mixed steps): 64-row tiles (the two warpgroups split the
// columns) and split-K clusters of 2, 4 or 8 for the narrow outputs; 4 stages, as a split's K slice is short.
HOPPER_GEMM(hopper_gemm_m64_n256, 64, 256, 4, 1, true)
HOPPER_GEMM(hopper_gemm_m64_n128, 64, 128, 6, 1, true)
HOPPER_GEMM_SPLIT(hopper_gemm_m64_n128_s2, 64, 128, 2, 4, true)
HOPPER_GEMM_SPLIT(hopper_gemm_m64_n128_s4, 64, 128, 4, 4, true)
HOPPER_GEMM_SPLIT(hopper_gemm_m64_n128_s8, 64, 128, 8, 4, true)
HOPPER_GEMM_SPLIT(hopper_gemm_n128_s2, 128, 128, 2, 4, true)
HOPPER_GEMM_SPLIT(hopper_gemm_n128_s4, 128, 128, 4, 4, true)
HOPPER_GEMM_SPLIT(hopper_gemm_n128_s8, 128, 128, 8, 4, true)
// FP8 weights (--quantization fp8), the same tiles: a stage also holds the codes (half a bf16 tile), so fewer stages
// fit; n256 keeps no wgmma group in flight to have a slot to prefetch into
HOPPER_GEMM_W8(hopper_gemm_n256_w8, 128, 256, 2, 0)
HOPPER_GEMM_W8(hopper_gemm_n192_w8, 128, 192, 3, 1)
HOPPER_GEMM_W8(hopper_gemm_n128_w8, 128, 128, 4, 1)
HOPPER_GEMM_W8(hopper_gemm_m64_n256_w8, 64, 256, 3, 1)
HOPPER_GEMM_W8(hopper_gemm_m64_n128_w8, 64, 128, 5, 1)
HOPPER_GEMM_SPLIT_W8(hopper_gemm_m64_n128_s2_w8, 64, 128, 2, 4)
HOPPER_GEMM_SPLIT_W8(hopper_gemm_m64_n128_s4_w8, 64, 128, 4, 4)
HOPPER_GEMM_SPLIT_W8(hopper_gemm_m64_n128_s8_w8, 64, 128, 8, 4)
HOPPER_GEMM_SPLIT_W8(hopper_gemm_n128_s2_w8, 128, 128, 2, 4)
HOPPER_GEMM_SPLIT_W8(hopper_gemm_n128_s4_w8, 128, 128, 4, 4)
HOPPER_GEMM_SPLIT_W8(hopper_gemm_n128_s8_w8, 128, 128, 8, 4)
// for the lab's comparison (gpu/cuda/src/lab/gemm_lab.cu): no wgmma group in flight across iterations, one more tile
// of prefetch instead (n256 with lo has only one otherwise)
HOPPER_GEMM(hopper_gemm_n256_k0, 128, 256, 3, 0, true)
HOPPER_GEMM(hopper_gemm_n256_hi_k0, 128, 256, 4, 0, false)

// the same tiles fed by TMA with warp specialization
#include "hopper_gemm_tma.cuh"
