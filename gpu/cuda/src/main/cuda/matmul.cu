// y[n, out] (+)= x[n, in] . W[out, in]^T + bias, with fp32 activations x and y and bf16 weights W (PyTorch's Linear
// layout). Here: the gemv for one or two rows (warps stream weight rows with 16-byte loads, x stays fp32), with
// SwiGLU fusable into gate/up; split_bf16, which turns the input rows into the tensor-core kernels' bf16 hi + lo operand
// (x = hi + lo to ~16 bits, both multiplied, so results stay within fp32 rounding of the gemv and batched and single
// decodes pick the same tokens); and the older tensor-core kernels (WMMA tiles for prefill, matmul_tile for decode
// batches), kept for shapes stream_gemm.cu does not take and for comparison. `accumulate` adds into y: that is the
// residual connection, fused into the projection's epilogue. All need in % 8 == 0.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <type_traits>
#include <mma.h>
#include "pdl.cuh"
using namespace nvcuda;

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float silu_mul(float g, float u) { return g / (1.f + expf(-g)) * u; }

// One or two rows (n == N): ks warps of a block compute output column o together, each streaming a contiguous 1/ks
// of weight row o with 16-byte loads (GLU: also row o + out, the up projection beside gate row o, written as
// silu(gate) * up: the SwiGLU fused, and x read once for both); their sums meet in shared memory. ks > 1 for the
// matrices with few rows (down_proj: 1536 rows of 17.9 KB): one warp per row left 192 blocks for 132 SMs, half of
// them idle for the second wave. Eight loads per lane in flight. grid ceil(units / (8 / ks)), block 256.
// norm (optional): the input is RMSNorm(x) * norm, folded in: x * norm is streamed and the sum of x^2 is taken in the
// same pass (each warp group sees the whole row), the 1 / rms scale applied to the dot products (no rmsnorm launch).
// MODE 0: y (+)= x . W^T; MODE 1 (GLU): see above; MODE 2 (ROPE, the qkv projection): each unit computes the pair of
// columns (o, o + head_dim / 2) of one head, rotates q and k heads (rotate_half RoPE at positions[t]) and writes the
// k and v heads also into the paged cache at slots[t] (each row writes only its own token's slot).
struct RopeArgs {
    const int* positions;
    const int* slots;
    const float* inv_freq;
    void* k_cache;
    void* v_cache;
    int num_heads, num_kv_heads, head_dim, kv_f32;
};

// Eight weights of one 16-byte (bf16) or 8-byte (FP8 E4M3) chunk as floats. E4M3 -> half is exact (its 3 mantissa
// bits and exponents 2^-9..2^8 fit), one cvt per pair on sm_89 and newer.
__device__ __forceinline__ void widen8(const uint4& raw, float (&wf)[8]) {
    const __nv_bfloat162* h2 = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 f = __bfloat1622float2(h2[i]);
        wf[2 * i] = f.x;
        wf[2 * i + 1] = f.y;
    }
}
__device__ __forceinline__ void widen8(const uint2& raw, float (&wf)[8]) {
    const __nv_fp8x2_storage_t* p = reinterpret_cast<const __nv_fp8x2_storage_t*>(&raw);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        __half2_raw h = __nv_cvt_fp8x2_to_halfraw2(p[i], __NV_E4M3);
        float2 f = __half22float2(*reinterpret_cast<__half2*>(&h));
        wf[2 * i] = f.x;
        wf[2 * i + 1] = f.y;
    }
}

// FP8: W holds E4M3 codes (one byte per weight) and row r is scaled by scales[r] (vLLM's per-channel fp8), applied to
// the row's dot products; twice the chunks in flight per lane, so each lane still has 128 bytes of loads outstanding.
template <int N, int MODE, bool FP8>
__device__ __forceinline__ void gemv(const float* __restrict__ x, const float* __restrict__ norm, float eps,
                                     const void* __restrict__ w, const float* __restrict__ scales,
                                     const float* __restrict__ bias, float* __restrict__ y, int n, int in, int out,
                                     int accumulate, int ks, RopeArgs ra) {
    using Raw = typename std::conditional<FP8, uint2, uint4>::type;
    constexpr bool PAIR = MODE != 0;
    __shared__ float red[8][3 * N];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int o = blockIdx.x * (8 / ks) + warp / ks; // the unit
    int part = warp % ks;
    int units = MODE == 2 ? out / 2 : out;
    bool valid = o < units;
    int o1 = o, o2 = o + out; // GLU: gate row o, up row o + out
    int half = MODE == 2 ? ra.head_dim / 2 : 0;
    if (MODE == 2) {
        o1 = (o / half) * ra.head_dim + o % half;
        o2 = o1 + half;
    }
    float acc[N], acc2[N], ss[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = acc2[t] = ss[t] = 0.f;
    constexpr int U = (PAIR ? 4 : 8) * (FP8 ? 2 : 1); // loads issued before the first use: 128 bytes per lane
    int chunks = in >> 3;
    int beg = valid ? part * chunks / ks : 0, end = valid ? (part + 1) * chunks / ks : 0;
    const Raw* row = reinterpret_cast<const Raw*>(static_cast<const char*>(w) + (size_t)o1 * in * sizeof(Raw) / 8);
    const Raw* row2 =
        reinterpret_cast<const Raw*>(static_cast<const char*>(w) + (size_t)(PAIR ? o2 : o1) * in * sizeof(Raw) / 8);
    for (int c0 = beg + lane; c0 < end; c0 += 32 * U) {
        Raw raw[U], raw2[U];
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + 32 * u;
            if (c < end) {
                raw[u] = __ldg(row + c);
                if (PAIR) raw2[u] = __ldg(row2 + c);
            }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + 32 * u;
            if (c >= end) break;
            float wf[8], wf2[8];
            widen8(raw[u], wf);
            if (PAIR) widen8(raw2[u], wf2);
            float gv[8];
            if (norm) {
                const float4* q = reinterpret_cast<const float4*>(norm + c * 8);
                float4 a = q[0], b = q[1];
                gv[0] = a.x, gv[1] = a.y, gv[2] = a.z, gv[3] = a.w, gv[4] = b.x, gv[5] = b.y, gv[6] = b.z, gv[7] = b.w;
            }
#pragma unroll
            for (int t = 0; t < N; t++) { // n == N
                const float4* p = reinterpret_cast<const float4*>(x + (size_t)t * in + c * 8);
                float4 a = p[0], b = p[1];
                float xv[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
                if (norm) {
                    float s2 = 0.f;
#pragma unroll
                    for (int i = 0; i < 8; i++) s2 += xv[i] * xv[i], xv[i] *= gv[i];
                    ss[t] += s2;
                }
                float d = 0.f, d2 = 0.f;
#pragma unroll
                for (int i = 0; i < 8; i++) d += xv[i] * wf[i];
                acc[t] += d;
                if (PAIR) {
#pragma unroll
                    for (int i = 0; i < 8; i++) d2 += xv[i] * wf2[i];
                    acc2[t] += d2;
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) {
        acc[t] = warp_sum(acc[t]);
        if (PAIR) acc2[t] = warp_sum(acc2[t]);
        if (norm) ss[t] = warp_sum(ss[t]);
    }
    if (ks > 1) {
        if (lane == 0) {
#pragma unroll
            for (int t = 0; t < N; t++) red[warp][t] = acc[t], red[warp][N + t] = acc2[t], red[warp][2 * N + t] = ss[t];
        }
        __syncthreads();
        if (part == 0 && lane == 0) {
#pragma unroll
            for (int t = 0; t < N; t++) {
                acc[t] = acc2[t] = ss[t] = 0.f;
                for (int p = 0; p < ks; p++)
                    acc[t] += red[warp + p][t], acc2[t] += red[warp + p][N + t], ss[t] += red[warp + p][2 * N + t];
            }
        }
    }
    if (lane == 0 && part == 0 && valid) {
        const float s1 = FP8 ? scales[o1] : 1.f, s2 = FP8 && PAIR ? scales[o2] : 1.f;
#pragma unroll
        for (int t = 0; t < N; t++) {
            float inv = norm ? rsqrtf(ss[t] / in + eps) : 1.f;
            float v = acc[t] * s1 * inv + (bias ? bias[o1] : 0.f);
            if (MODE == 1) {
                y[(size_t)t * out + o] = silu_mul(v, acc2[t] * s2 * inv + (bias ? bias[o2] : 0.f));
            } else if (MODE == 2) {
                float v2 = acc2[t] * s2 * inv + (bias ? bias[o2] : 0.f);
                int head = o1 / ra.head_dim;
                int q_dim = ra.num_heads * ra.head_dim, kv_dim = ra.num_kv_heads * ra.head_dim;
                if (head < ra.num_heads + ra.num_kv_heads) { // q and k heads: rotate (as rope_kv_write in layers.cu)
                    float angle = (float)ra.positions[t] * ra.inv_freq[o % half];
                    float cs = cosf(angle), sn = sinf(angle);
                    float x1 = v, x2 = v2;
                    v = x1 * cs - x2 * sn;
                    v2 = x2 * cs + x1 * sn;
                }
                y[(size_t)t * out + o1] = v;
                y[(size_t)t * out + o2] = v2;
                if (o1 >= q_dim) {
                    bool is_k = o1 < q_dim + kv_dim;
                    size_t dst = (size_t)ra.slots[t] * kv_dim + (o1 - q_dim - (is_k ? 0 : kv_dim));
                    void* cache = is_k ? ra.k_cache : ra.v_cache;
                    if (ra.kv_f32) {
                        reinterpret_cast<float*>(cache)[dst] = v;
                        reinterpret_cast<float*>(cache)[dst + half] = v2;
                    } else {
                        reinterpret_cast<__nv_bfloat16*>(cache)[dst] = __float2bfloat16(v);
                        reinterpret_cast<__nv_bfloat16*>(cache)[dst + half] = __float2bfloat16(v2);
                    }
                }
            } else {
                size_t i = (size_t)t * out + o;
                y[i] = accumulate ? y[i] + v : v;
            }
        }
    }
}

// y (+)= x . W^T + bias for n == N rows; matmul_glu: act = silu(x . Wg^T + bg) * (x . Wu^T + bu) with W = [Wg | Wu];
// matmul_qkv_rope: qkv = x . W^T + b with RoPE and the K/V cache write. norm may be null (the input is x itself).
// SUFFIX _fp8 (FP8 true): W as E4M3 codes with per-row scales (null for bf16).
#define GEMV_KERNELS(N, SUFFIX, FP8)                                                                              \
    extern "C" __global__ void __launch_bounds__(256)                                                              \
    matmul_gemv##N##SUFFIX(const float* x, const void* w, const float* scales, const float* bias, float* y, int n, \
                           int in, int out, int accumulate, int ks) { pdl_enter();                                 \
        gemv<N, 0, FP8>(x, nullptr, 0.f, w, scales, bias, y, n, in, out, accumulate, ks, RopeArgs{});              \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(256)                                                              \
    matmul_glu##N##SUFFIX(const float* x, const float* norm, float eps, const void* w, const float* scales,       \
                          const float* bias, float* act, int n, int in, int inter, int ks) { pdl_enter();          \
        gemv<N, 1, FP8>(x, norm, eps, w, scales, bias, act, n, in, inter, 0, ks, RopeArgs{});                      \
    }                                                                                                              \
    extern "C" __global__ void __launch_bounds__(256)                                                              \
    matmul_qkv_rope##N##SUFFIX(const float* x, const float* norm, float eps, const void* w, const float* scales,  \
                               const float* bias, float* qkv, int n, int in, int out, int ks, const int* positions, \
                               const int* slots, const float* inv_freq, void* k_cache, void* v_cache,             \
                               int num_heads, int num_kv_heads, int head_dim, int kv_f32) { pdl_enter();           \
        gemv<N, 2, FP8>(x, norm, eps, w, scales, bias, qkv, n, in, out, 0, ks,                                     \
                        RopeArgs{positions, slots, inv_freq, k_cache, v_cache, num_heads, num_kv_heads, head_dim,  \
                                 kv_f32});                                                                         \
    }
#define GEMV(N) GEMV_KERNELS(N, , false) GEMV_KERNELS(N, _fp8, true)

GEMV(1)
GEMV(2)

// Tensor-core tiles: 4 warps in a 2 x 2 arrangement, each warp FM x FN fragments of 16 x 16; block tile
// BM = 32 FM rows of x by BN = 32 FN rows of W, stepping 32 along `in`.
// grid (ceil(out / BN), ceil(n / BM)), block 128.
template <int FM, int FN>
__device__ __forceinline__ void mma_tile(const float* __restrict__ x, const __nv_bfloat16* __restrict__ w,
                                         const float* __restrict__ bias, float* __restrict__ y, int n, int in,
                                         int out, int accumulate) {
    constexpr int BM = 32 * FM, BN = 32 * FN, BK = 32, LDS = BK + 8, LDC = BN + 4;
    __shared__ __align__(32) __nv_bfloat16 As[BM * LDS];
    __shared__ __align__(32) __nv_bfloat16 Al[BM * LDS];
    __shared__ __align__(32) __nv_bfloat16 Bs[BN * LDS];
    __shared__ __align__(32) float Cs[BM * LDC];
    int tid = threadIdx.x, warp = tid >> 5, wm = warp >> 1, wn = warp & 1;
    int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++) wmma::fill_fragment(acc[i][j], 0.f);

    for (int k0 = 0; k0 < in; k0 += BK) {
        // A: BM x BK floats as float4, rounded to bf16.
        for (int e = tid; e < BM * BK / 4; e += 128) {
            int r = e / (BK / 4), c = (e % (BK / 4)) * 4;
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (row0 + r < n && k0 + c < in) v = *reinterpret_cast<const float4*>(x + (size_t)(row0 + r) * in + k0 + c);
            float f[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int q = 0; q < 4; q++) {
                __nv_bfloat16 hi = __float2bfloat16(f[q]);
                As[r * LDS + c + q] = hi;
                Al[r * LDS + c + q] = __float2bfloat16(f[q] - __bfloat162float(hi));
            }
        }
        // B: BN x BK bf16 as 16-byte chunks.
        for (int e = tid; e < BN * BK / 8; e += 128) {
            int r = e / (BK / 8), c = (e % (BK / 8)) * 8;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (col0 + r < out && k0 + c < in) v = __ldg(reinterpret_cast<const uint4*>(w + (size_t)(col0 + r) * in + k0 + c));
            *reinterpret_cast<uint4*>(Bs + r * LDS + c) = v;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a[FM], al[FM];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b[FN];
#pragma unroll
            for (int i = 0; i < FM; i++) {
                wmma::load_matrix_sync(a[i], As + (wm * 16 * FM + i * 16) * LDS + kk, LDS);
                wmma::load_matrix_sync(al[i], Al + (wm * 16 * FM + i * 16) * LDS + kk, LDS);
            }
#pragma unroll
            for (int j = 0; j < FN; j++) wmma::load_matrix_sync(b[j], Bs + (wn * 16 * FN + j * 16) * LDS + kk, LDS);
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < FN; j++) {
                    wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
                    wmma::mma_sync(acc[i][j], al[i], b[j], acc[i][j]);
                }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++)
            wmma::store_matrix_sync(Cs + (wm * 16 * FM + i * 16) * LDC + wn * 16 * FN + j * 16, acc[i][j], LDC,
                                    wmma::mem_row_major);
    __syncthreads();
    for (int e = tid; e < BM * BN; e += 128) {
        int r = e / BN, c = e % BN;
        if (row0 + r < n && col0 + c < out) {
            size_t i = (size_t)(row0 + r) * out + col0 + c;
            float v = Cs[r * LDC + c] + (bias ? bias[col0 + c] : 0.f);
            y[i] = accumulate ? y[i] + v : v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(128)
matmul_mma64(const float* x, const __nv_bfloat16* w, const float* bias, float* y, int n, int in, int out, int accumulate) {
    pdl_enter();
    mma_tile<2, 2>(x, w, bias, y, n, in, out, accumulate);
}

extern "C" __global__ void __launch_bounds__(128)
matmul_mma32(const float* x, const __nv_bfloat16* w, const float* bias, float* y, int n, int in, int out, int accumulate) {
    pdl_enter();
    mma_tile<1, 1>(x, w, bias, y, n, in, out, accumulate);
}

// The tensor-core kernels' operand: input rows (fp32, n rows; RMSNorm(x) * norm when norm is set, silu(gate) * up
// from [gate | up] rows when gated) -> hi, lo (bf16, zero beyond n) with value ~= hi + lo. With zero set, also clears
// rows t < n of the matmul's output (zero_cols wide): the weight-streaming GEMM adds into it, and this saves a memset
// launch. grid (n_pad, parts), block 256: part p of a row converts its 1/parts of the row (every part computes the
// row's norm itself, from L2), so a few rows still spread over the SMs. in % 8 == 0.
extern "C" __global__ void split_bf16(const float* __restrict__ x, const float* __restrict__ norm, float eps, int gated,
                                      __nv_bfloat16* __restrict__ hi, __nv_bfloat16* __restrict__ lo, int n, int in,
                                      float* __restrict__ zero, int zero_cols) {
    pdl_enter();
    int t = blockIdx.x, part = blockIdx.y, parts = gridDim.y;
    size_t row_stride = gated ? 2 * (size_t)in : (size_t)in;
    const float* xr = x + t * row_stride;
    int quads = in >> 2;
    int q0 = (int)((long long)quads * part / parts), q1 = (int)((long long)quads * (part + 1) / parts);
    uint2* h = reinterpret_cast<uint2*>(hi + (size_t)t * in);
    uint2* l = reinterpret_cast<uint2*>(lo + (size_t)t * in);
    if (t >= n) {
        for (int i = q0 + threadIdx.x; i < q1; i += blockDim.x) h[i] = l[i] = make_uint2(0, 0);
        return;
    }
    if (zero) {
        float4* z = reinterpret_cast<float4*>(zero + (size_t)t * zero_cols);
        int zq = zero_cols >> 2;
        int z0 = (int)((long long)zq * part / parts), z1 = (int)((long long)zq * (part + 1) / parts);
        for (int i = z0 + threadIdx.x; i < z1; i += blockDim.x) z[i] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
    float inv = 1.f;
    if (norm) {
        __shared__ float partial[32];
        float ss = 0.f;
        for (int i = threadIdx.x; i < in; i += blockDim.x) ss += xr[i] * xr[i];
        ss = warp_sum(ss);
        if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = ss;
        __syncthreads();
        float tot = 0.f;
        for (int wi = 0; wi < (int)(blockDim.x >> 5); wi++) tot += partial[wi];
        inv = rsqrtf(tot / in + eps);
    }
    const float4* x4 = reinterpret_cast<const float4*>(xr);
    const float4* g4 = reinterpret_cast<const float4*>(norm);
    for (int i = q0 + threadIdx.x; i < q1; i += blockDim.x) {
        float4 a = x4[i];
        float v[4] = {a.x, a.y, a.z, a.w};
        if (gated) {
            float4 u = x4[i + quads];
            v[0] = silu_mul(v[0], u.x); v[1] = silu_mul(v[1], u.y); v[2] = silu_mul(v[2], u.z); v[3] = silu_mul(v[3], u.w);
        }
        if (norm) {
            float4 g = g4[i];
            v[0] = v[0] * inv * g.x; v[1] = v[1] * inv * g.y; v[2] = v[2] * inv * g.z; v[3] = v[3] * inv * g.w;
        }
        __align__(8) __nv_bfloat16 hb[4], lb[4];
#pragma unroll
        for (int e = 0; e < 4; e++) {
            hb[e] = __float2bfloat16(v[e]);
            lb[e] = __float2bfloat16(v[e] - __bfloat162float(hb[e]));
        }
        h[i] = *reinterpret_cast<uint2*>(hb);
        l[i] = *reinterpret_cast<uint2*>(lb);
    }
}

// Decode batches, second form: the x operand (hi/lo, MT x 16 padded rows) is staged through shared memory in
// 64-wide k tiles and shared by 8 warps that each own 32 output columns (a block covers 256), so x is read from L2
// once per 256 columns instead of once per 32. Weight fragments still come straight from global memory, eight loads
// issued before the first multiply. grid (ceil(out / 256), k splits); in % 16 == 0, out % 16 == 0; with k splits > 1
// the blocks add into y atomically (y holds the residual or zeros).
template <int MT>
__device__ __forceinline__ void tile_mma(const __nv_bfloat16* __restrict__ xhi, const __nv_bfloat16* __restrict__ xlo,
                                         const __nv_bfloat16* __restrict__ w, const float* __restrict__ bias,
                                         float* __restrict__ y, int n, int in, int out, int accumulate) {
    constexpr int BM = 16 * MT, BK = 64, LDA = BK + 8, NT = 2, WARPS = 8;
    __shared__ __align__(32) __nv_bfloat16 ah_s[BM * LDA];
    __shared__ __align__(32) __nv_bfloat16 al_s[BM * LDA];
    __shared__ __align__(32) float stage[WARPS][16 * 16];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int colw = blockIdx.x * (WARPS * 16 * NT) + warp * 16 * NT; // this warp's first output column
    int ksteps = in >> 4;
    int per = (ksteps + gridDim.y - 1) / gridDim.y;
    int kbeg = blockIdx.y * per, kend = min(ksteps, kbeg + per);

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[MT][NT];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) wmma::fill_fragment(acc[i][j], 0.f);

    for (int kt = kbeg; kt < kend; kt += BK / 16) {
        int steps = min(BK / 16, kend - kt);
        // weights first: their loads fly while x is staged
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b[BK / 16][NT];
#pragma unroll
        for (int s = 0; s < BK / 16; s++)
#pragma unroll
            for (int j = 0; j < NT; j++)
                if (s < steps) {
                    int col = min(colw + 16 * j, out - 16);
                    wmma::load_matrix_sync(b[s][j], w + (size_t)col * in + ((kt + s) << 4), in);
                }
        for (int e = threadIdx.x; e < BM * (BK / 8); e += blockDim.x) {
            int r = e / (BK / 8), c = (e % (BK / 8)) * 8;
            uint4 vh = make_uint4(0, 0, 0, 0), vl = make_uint4(0, 0, 0, 0);
            if ((kt << 4) + c < (kend << 4)) {
                vh = *reinterpret_cast<const uint4*>(xhi + (size_t)r * in + (kt << 4) + c);
                vl = *reinterpret_cast<const uint4*>(xlo + (size_t)r * in + (kt << 4) + c);
            }
            *reinterpret_cast<uint4*>(ah_s + r * LDA + c) = vh;
            *reinterpret_cast<uint4*>(al_s + r * LDA + c) = vl;
        }
        __syncthreads();
#pragma unroll
        for (int s = 0; s < BK / 16; s++) {
            if (s < steps) {
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> ah, al;
                    wmma::load_matrix_sync(ah, ah_s + (16 * i) * LDA + 16 * s, LDA);
                    wmma::load_matrix_sync(al, al_s + (16 * i) * LDA + 16 * s, LDA);
#pragma unroll
                    for (int j = 0; j < NT; j++) {
                        wmma::mma_sync(acc[i][j], ah, b[s][j], acc[i][j]);
                        wmma::mma_sync(acc[i][j], al, b[s][j], acc[i][j]);
                    }
                }
            }
        }
        __syncthreads();
    }
    float* st = stage[warp];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) {
            wmma::store_matrix_sync(st, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            for (int e = lane; e < 256; e += 32) {
                int r = 16 * i + e / 16, c = colw + 16 * j + e % 16;
                if (r < n && c < out) {
                    size_t idx = (size_t)r * out + c;
                    float v = st[e] + (bias && blockIdx.y == 0 ? bias[c] : 0.f);
                    if (gridDim.y > 1) atomicAdd(y + idx, v);
                    else y[idx] = accumulate ? y[idx] + v : v;
                }
            }
            __syncwarp();
        }
}

#define TILE(MT)                                                                                                    \
    extern "C" __global__ void __launch_bounds__(256)                                                                \
    matmul_tile##MT(const __nv_bfloat16* xhi, const __nv_bfloat16* xlo, const __nv_bfloat16* w, const float* bias, \
                    float* y, int n, int in, int out, int accumulate) { pdl_enter();                               \
        tile_mma<MT>(xhi, xlo, w, bias, y, n, in, out, accumulate);                                                 \
    }
TILE(1)
TILE(2)
TILE(4)

// FP8 weights for 3+ rows: the tensor-core GEMMs read bf16, so a layer matrix is widened first, each row times its
// scale rounded to bf16 (2^-9 relative, against E4M3's own 2^-4), into a scratch the next GEMM reads. 8 weights per
// thread per iteration; cols % 8 == 0.
extern "C" __global__ void fp8_dequant_bf16(const uint2* __restrict__ codes, const float* __restrict__ scales,
                                            uint4* __restrict__ out, int rows, int cols) {
    pdl_enter();
    const size_t chunks = (size_t)rows * (cols / 8);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < chunks; i += (size_t)gridDim.x * blockDim.x) {
        const float s = scales[i / (cols / 8)];
        float wf[8];
        widen8(codes[i], wf);
        uint4 o;
        __nv_bfloat162* h2 = reinterpret_cast<__nv_bfloat162*>(&o);
#pragma unroll
        for (int j = 0; j < 4; j++) h2[j] = __floats2bfloat162_rn(wf[2 * j] * s, wf[2 * j + 1] * s);
        out[i] = o;
    }
}
