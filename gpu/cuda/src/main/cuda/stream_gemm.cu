// y[t, o] += x[t, :] . W[o, :] + bias[o] on tensor cores, for decode batches (3..64 rows) and prefill alike: the
// weight-streaming GEMM. W (bf16, [out, in]) is the MMA's A operand (16 output columns per m16 tile) and x the B
// operand (8 rows per n8 tile), so a decode batch of 8 wastes nothing on padding. x comes as bf16 hi + lo
// (split_bf16: x ~= hi + lo to ~16 bits) and both are multiplied, keeping results within fp32 rounding of the fp32
// gemv, so batched and single decodes pick the same tokens.
//
// Work is cut into units of (BO output columns, slice of 8*NT rows, 64 of `in`), and each block takes a contiguous
// run of units (stream-K): every SM gets the same number of weight bytes whatever the matrix shape, with no
// wave-quantisation tail. Units walk the reduction dimension innermost; a block adds its partial sums into y with
// atomics whenever it leaves a column tile, so y must hold the residual (accumulate) or zeros (split_bf16 zeroes it).
// Tiles move global -> shared memory with 16-byte cp.async through a STAGES-deep ring, then ldmatrix -> mma.sync.
// Needs in % 64 == 0 and out % 16 == 0; hi/lo hold slices * 8*NT rows (zeros beyond n).
#include <cuda_bf16.h>
#include <stdint.h>

#include "ptx_async_mma.cuh"
#include "pdl.cuh"

namespace {
constexpr int WARPS = 8;
constexpr int BK = 64;                 // reduction depth per unit: one 128-byte row segment

// Weight tiles are read once per step (GBs through a 50 MB L2). HINT bit 2 (the default, 2): weight lines are marked
// evict_first, so the stream pushes fewer of x, the atomically accumulated outputs and the KV cache out of L2 (batch 64:
// +1.4%, lm_head 234 -> 228 us). Bit 1: ask L2 for the aligned 256 bytes around each 128-byte row segment, so the
// next unit of the same rows finds them in L2 and DRAM sees 256-byte bursts: no faster (1), slower with bit 2 (3), so
// DRAM row locality is not what holds the 64-row kernel back.
template <int HINT>
__device__ __forceinline__ void cp_async16_w(uint32_t dst, const void* src, uint64_t policy) {
    if (HINT == 1) {
        asm volatile("cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
    } else if (HINT == 2) {
        asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "l"(policy));
    } else if (HINT == 3) {
        asm volatile("cp.async.cg.shared.global.L2::cache_hint.L2::256B [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
                     "l"(policy));
    } else {
        cp_async16(dst, src);
    }
}
__device__ __forceinline__ uint64_t evict_first_policy() {
    uint64_t p;
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(p));
    return p;
}
// Byte offset of 16-byte chunk c (0..7) of row r in a tile of 128-byte rows. The chunk index is XOR-swizzled with the
// row so that ldmatrix's 8 row addresses (8 consecutive rows, same logical chunk) hit 8 different bank groups.
__device__ __forceinline__ uint32_t swz(int r, int c) { return (uint32_t)(r * 128 + ((c ^ (r & 7)) << 4)); }
} // namespace

// NT: n8 tiles of x rows per slice; the 8 warps form WM x WN (WN along the rows of x), each warp MW m16 tiles
// (16 output columns each) by NT / WN n8 tiles, so BO = 16 MW WM output columns per unit. WN = 2 for 32+ rows: with
// WN = 1 every warp re-read all of x's fragments from shared memory, 4x the weight fragments' bytes at 64 rows.
// STAGES: depth of the cp.async ring; TILED: W is stored tile by tile ([out / BO][in / 64][BO][64], each unit's
// weights one contiguous block) instead of PyTorch's [out, in].
template <int NT, int MW, int STAGES, bool TILED, int WN = 1, bool LO = true, int HINT = 0>
__device__ __forceinline__ void stream_gemm(const __nv_bfloat16* __restrict__ xhi, const __nv_bfloat16* __restrict__ xlo,
                                            const __nv_bfloat16* __restrict__ w, const float* __restrict__ bias,
                                            float* __restrict__ y, int n, int in, int out, int slices) {
    constexpr int WM = WARPS / WN, NTW = NT / WN;
    static_assert(NT % WN == 0, "NT must split evenly over WN");
    constexpr int BO = WM * MW * 16;
    constexpr int NP = 8 * NT;                       // rows of x per slice
    constexpr int W_BYTES = BO * BK * 2;
    constexpr int X_BYTES = NP * BK * 2;             // hi (and again lo)
    constexpr int STAGE_BYTES = W_BYTES + (LO ? 2 : 1) * X_BYTES;
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t base = smem_u32(smem);

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int wm = warp / WN, wn = warp % WN;
    const int kts = in / BK;
    const int cols = (out + BO - 1) / BO;
    const long long units = (long long)slices * cols * kts;
    const long long begin = units * blockIdx.x / gridDim.x;
    const long long end = units * (blockIdx.x + 1) / gridDim.x;
    const int count = (int)(end - begin);
    const uint64_t policy = (HINT & 2) ? evict_first_policy() : 0;

    auto load = [&](long long u, int stage) {
        int kt = (int)(u % kts);
        long long seg = u / kts;                     // (column tile, slice), slices inner: a column tile's
        int sl = (int)(seg % slices), ct = (int)(seg / slices); // weights are re-read from L2 by the next slice
        uint32_t ws = base + stage * STAGE_BYTES;
        const __nv_bfloat16* wk = TILED ? w + ((size_t)ct * kts + kt) * (BO * BK) : w + (size_t)kt * BK;
#pragma unroll
        for (int j = 0; j < BO * 8 / (WARPS * 32); j++) {
            int e = tid + j * WARPS * 32;
            int r = e >> 3, c = e & 7;
            if (TILED) {
                cp_async16_w<HINT>(ws + swz(r, c), wk + e * 8, policy);
            } else {
                int row = min(ct * BO + r, out - 1); // rows past `out` read a valid row; their sums are dropped
                cp_async16_w<HINT>(ws + swz(r, c), wk + (size_t)row * in + c * 8, policy);
            }
        }
        uint32_t xs = ws + W_BYTES;
        size_t xoff = (size_t)sl * NP * in + (size_t)kt * BK;
#pragma unroll
        for (int j = 0; j < (NP * 8 + WARPS * 32 - 1) / (WARPS * 32); j++) {
            int e = tid + j * WARPS * 32;
            if (e < NP * 8) {
                int r = e >> 3, c = e & 7;
                size_t g = xoff + (size_t)r * in + c * 8;
                cp_async16(xs + swz(r, c), xhi + g);
                if (LO) cp_async16(xs + X_BYTES + swz(r, c), xlo + g);
            }
        }
    };

    float acc[MW][NTW][4];
#pragma unroll
    for (int i = 0; i < MW; i++)
#pragma unroll
        for (int j = 0; j < NTW; j++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[i][j][q] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < count) load(begin + s, s);
        cp_async_commit(); // empty groups keep the group count uniform for wait_group
    }
    bool with_bias = bias != nullptr && begin % kts == 0;
    for (int i = 0; i < count; i++) {
        cp_async_wait<STAGES - 2>();
        __syncthreads(); // unit i is in shared memory; every warp is done with the stage refilled next
        if (i + STAGES - 1 < count) load(begin + i + STAGES - 1, (i + STAGES - 1) % STAGES);
        cp_async_commit();

        const uint32_t ws = base + (i % STAGES) * STAGE_BYTES;
        const uint32_t xs = ws + W_BYTES;
#pragma unroll
        for (int ks = 0; ks < BK / 16; ks++) {
            uint32_t a[MW][4];
#pragma unroll
            for (int mi = 0; mi < MW; mi++) {
                int r = wm * (MW * 16) + mi * 16 + (lane & 15);
                ldmatrix_x4(a[mi], ws + swz(r, 2 * ks + (lane >> 4)));
            }
#pragma unroll
            for (int ni = 0; ni < NTW; ni++) {
                // matrices: hi k0-7, hi k8-15, lo k0-7, lo k8-15 of this n8 tile's 8 rows
                int r = (wn * NTW + ni) * 8 + (lane & 7);
                uint32_t b[4];
                // without lo: matrices 2 and 3 re-read hi (same addresses), unused
                ldmatrix_x4(b, xs + ((LO && (lane & 16)) ? X_BYTES : 0) + swz(r, 2 * ks + ((lane >> 3) & 1)));
#pragma unroll
                for (int mi = 0; mi < MW; mi++) {
                    mma_bf16(acc[mi][ni], a[mi], b[0], b[1]);
                    if (LO) mma_bf16(acc[mi][ni], a[mi], b[2], b[3]);
                }
            }
        }

        long long u = begin + i;
        if ((int)(u % kts) == kts - 1 || i == count - 1) {
            long long seg = u / kts;
            int sl = (int)(seg % slices), ct = (int)(seg / slices);
#pragma unroll
            for (int mi = 0; mi < MW; mi++) {
                int o = ct * BO + wm * (MW * 16) + mi * 16 + (lane >> 2);
#pragma unroll
                for (int h = 0; h < 2; h++) { // accumulator rows o and o + 8
                    int oo = o + 8 * h;
                    if (oo < out) {
                        float bo = with_bias ? bias[oo] : 0.f;
#pragma unroll
                        for (int ni = 0; ni < NTW; ni++) {
                            int t = sl * NP + (wn * NTW + ni) * 8 + 2 * (lane & 3);
                            if (t < n) atomicAdd(y + (size_t)t * out + oo, acc[mi][ni][2 * h] + bo);
                            if (t + 1 < n) atomicAdd(y + (size_t)(t + 1) * out + oo, acc[mi][ni][2 * h + 1] + bo);
                        }
                    }
                }
#pragma unroll
                for (int ni = 0; ni < NTW; ni++)
#pragma unroll
                    for (int q = 0; q < 4; q++) acc[mi][ni][q] = 0.f;
            }
            with_bias = bias != nullptr; // the next unit starts a column tile at k = 0
        }
    }
    cp_async_wait<0>();
}

// Shared memory bytes per block: the Java side passes the same figure (STAGES * (BO*64*2 + 2 * 8*NT*64*2)).
#define STREAM_GEMM_H(NAME, NT, MW, STAGES, TILED, WN, LO, MINB, HINT)                                            \
    extern "C" __global__ void __launch_bounds__(WARPS * 32, MINB)                                                   \
    NAME(const __nv_bfloat16* xhi, const __nv_bfloat16* xlo, const __nv_bfloat16* w, const float* bias, float* y,   \
         int n, int in, int out, int slices) { pdl_enter();                                                          \
        stream_gemm<NT, MW, STAGES, TILED, WN, LO, HINT>(xhi, xlo, w, bias, y, n, in, out, slices);                  \
    }
#define STREAM_GEMM_X(NAME, NT, MW, STAGES, TILED, WN, LO, MINB) STREAM_GEMM_H(NAME, NT, MW, STAGES, TILED, WN, LO, MINB, 0)
// the default kernels, plus _h1 / _h2 / _h3 with the weight-load hints above (CudaBackend's gemmHint picks them)
#define STREAM_GEMM(NAME, NT, MW, STAGES, TILED, WN) STREAM_GEMM_X(NAME, NT, MW, STAGES, TILED, WN, true, 1)
#define STREAM_GEMM_HINTED(NAME, NT, MW, STAGES, TILED, WN)                                                          \
    STREAM_GEMM(NAME, NT, MW, STAGES, TILED, WN)                                                                     \
    STREAM_GEMM_H(NAME##_h1, NT, MW, STAGES, TILED, WN, true, 1, 1)                                                  \
    STREAM_GEMM_H(NAME##_h2, NT, MW, STAGES, TILED, WN, true, 1, 2)                                                  \
    STREAM_GEMM_H(NAME##_h3, NT, MW, STAGES, TILED, WN, true, 1, 3)
// up to 24 rows: BO = 256 output columns per unit, 4 stages, one block per SM; from 32 rows: BO = 128, 3 stages, two
// or more blocks per SM (measured ~9% faster at 64 rows than one block of 256 columns: while one block waits at its
// barrier, the other's MMAs run). The Java side keeps the same table (CudaBackend.streamGemmColumns / streamGemmShared).
STREAM_GEMM_HINTED(stream_gemm1, 1, 2, 4, false, 1)
STREAM_GEMM_HINTED(stream_gemm2, 2, 2, 4, false, 1)
STREAM_GEMM_HINTED(stream_gemm3, 3, 2, 4, false, 1)
STREAM_GEMM_HINTED(stream_gemm4, 4, 2, 3, false, 2)
STREAM_GEMM_HINTED(stream_gemm6, 6, 2, 3, false, 2)
STREAM_GEMM_HINTED(stream_gemm8, 8, 2, 3, false, 2)
// variants for the benchmark's kernel comparison (name: _m MW _s STAGES _w WN [_t: tiled])
STREAM_GEMM(stream_gemm8_m2_s4_w1, 8, 2, 4, false, 1)
STREAM_GEMM(stream_gemm8_m4_s4_w2, 8, 4, 4, false, 2)
STREAM_GEMM(stream_gemm1_m1_s4_w1_t, 1, 1, 4, true, 1)
STREAM_GEMM(stream_gemm8_m4_s4_w2_t, 8, 4, 4, true, 2)
// 64-row candidates swept by the benchmark (CudaBackend.GEMM64: name -> mw, stages, wn, lo; selected with
// -Darbor.cuda.gemm64=NAME): _m MW _s STAGES _w WN [_b MINBLOCKS] [_hi: x as bf16 hi only, one MMA per fragment]
STREAM_GEMM_X(stream_gemm8_m2_s2_w2_b3, 8, 2, 2, false, 2, true, 3)
STREAM_GEMM_X(stream_gemm8_m4_s3_w4, 8, 4, 3, false, 4, true, 2)
STREAM_GEMM_X(stream_gemm8_m4_s2_w4_b3, 8, 4, 2, false, 4, true, 3)
STREAM_GEMM_X(stream_gemm8_m4_s2_w2_b2, 8, 4, 2, false, 2, true, 2)
STREAM_GEMM_X(stream_gemm8_m2_s3_w2_b3_hi, 8, 2, 3, false, 2, false, 3)
STREAM_GEMM_X(stream_gemm8_m2_s4_w2_b2_hi, 8, 2, 4, false, 2, false, 2)
STREAM_GEMM_X(stream_gemm8_m4_s2_w2_b2_hi, 8, 4, 2, false, 2, false, 2)
