// y[n, out] (+)= x[n, in] . W[out, in]^T + bias, with fp32 activations x and y and bf16 weights W (PyTorch's Linear
// layout). Three kernels: for one or two rows a warp streams one weight row with 16-byte loads and keeps x in fp32;
// for decode batches up to 64 rows, tensor-core fragments read straight from the weights in global memory (every
// weight byte read once) with x in shared-nothing bf16 fragments; for prefill, tensor-core tiles through shared memory.
// The tensor-core kernels split x into bf16 hi + lo parts (x = hi + lo to ~16 bits) and multiply both, so results
// stay within fp32 rounding of the weight-streaming kernel: batched and single decodes pick the same tokens. `accumulate` adds into y: that is the residual connection, fused into the projection's epilogue.
// Both need in % 8 == 0.
#include <cuda_bf16.h>
#include <mma.h>
using namespace nvcuda;

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// The matmul's input row t, element i: x itself, RMSNorm(x) (norm != null: the layer's input norm fused in), or
// silu(gate) * up read from [gate | up] rows (gated: SwiGLU fused into the down projection).
struct Input {
    const float* x;
    const float* norm;
    int gated;
};

__device__ __forceinline__ float silu_mul(float g, float u) { return g / (1.f + expf(-g)) * u; }

// grid ceil(out / 8), block 256: warp w of block b computes output column 8b + w for all n <= N rows.
template <int N, bool FUSED>
__device__ __forceinline__ void gemv(Input input, float eps, const __nv_bfloat16* __restrict__ w,
                                     const float* __restrict__ bias, float* __restrict__ y, int n, int in, int out,
                                     int accumulate) {
    int lane = threadIdx.x & 31;
    int o = blockIdx.x * 8 + (threadIdx.x >> 5);
    if (o >= out) return;
    if (!FUSED) input.norm = nullptr, input.gated = 0; // lets the compiler drop the fused paths
    size_t row_stride = input.gated ? 2 * (size_t)in : (size_t)in;
    float inv[N];
#pragma unroll
    for (int t = 0; t < N; t++) {
        inv[t] = 1.f;
        if (input.norm && t < n) {
            const float* xr = input.x + t * row_stride;
            float ss = 0.f;
            for (int i = lane; i < in; i += 32) ss += xr[i] * xr[i];
            ss = warp_sum(ss);
            inv[t] = rsqrtf(ss / in + eps);
        }
    }
    const uint4* row = reinterpret_cast<const uint4*>(w + (size_t)o * in);
    float acc[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = 0.f;
    int chunks = in >> 3;
#pragma unroll 4
    for (int c = lane; c < chunks; c += 32) {
        uint4 raw = __ldg(row + c);
        const __nv_bfloat162* h2 = reinterpret_cast<const __nv_bfloat162*>(&raw);
        float wf[8];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float2 f = __bfloat1622float2(h2[i]);
            wf[2 * i] = f.x;
            wf[2 * i + 1] = f.y;
        }
        float g[8];
        if (input.norm) {
            const float4* nv = reinterpret_cast<const float4*>(input.norm + c * 8);
            float4 a = nv[0], b = nv[1];
            g[0] = a.x; g[1] = a.y; g[2] = a.z; g[3] = a.w; g[4] = b.x; g[5] = b.y; g[6] = b.z; g[7] = b.w;
        }
#pragma unroll
        for (int t = 0; t < N; t++) {
            if (t < n) {
                const float* xr = input.x + t * row_stride + c * 8;
                float xv[8];
                const float4* p = reinterpret_cast<const float4*>(xr);
                float4 a = p[0], b = p[1];
                xv[0] = a.x; xv[1] = a.y; xv[2] = a.z; xv[3] = a.w; xv[4] = b.x; xv[5] = b.y; xv[6] = b.z; xv[7] = b.w;
                if (input.gated) {
                    const float4* q = reinterpret_cast<const float4*>(xr + in);
                    float4 ua = q[0], ub = q[1];
                    xv[0] = silu_mul(xv[0], ua.x); xv[1] = silu_mul(xv[1], ua.y);
                    xv[2] = silu_mul(xv[2], ua.z); xv[3] = silu_mul(xv[3], ua.w);
                    xv[4] = silu_mul(xv[4], ub.x); xv[5] = silu_mul(xv[5], ub.y);
                    xv[6] = silu_mul(xv[6], ub.z); xv[7] = silu_mul(xv[7], ub.w);
                }
                if (input.norm) {
#pragma unroll
                    for (int i = 0; i < 8; i++) xv[i] = xv[i] * inv[t] * g[i];
                }
                float d = 0.f;
#pragma unroll
                for (int i = 0; i < 8; i++) d += xv[i] * wf[i];
                acc[t] += d;
            }
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) {
        float s = warp_sum(acc[t]);
        if (lane == 0 && t < n) {
            size_t i = (size_t)t * out + o;
            float v = s + (bias ? bias[o] : 0.f);
            y[i] = accumulate ? y[i] + v : v;
        }
    }
}

#define GEMV(N)                                                                                                   \
    extern "C" __global__ void __launch_bounds__(256)                                                              \
    matmul_gemv##N(const float* x, const float* norm, float eps, int gated, const __nv_bfloat16* w,               \
                   const float* bias, float* y, int n, int in, int out, int accumulate) {                         \
        if (norm || gated) gemv<N, true>(Input{x, norm, gated}, eps, w, bias, y, n, in, out, accumulate);      \
        else gemv<N, false>(Input{x, nullptr, 0}, eps, w, bias, y, n, in, out, accumulate);                                    \
    }
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
    mma_tile<2, 2>(x, w, bias, y, n, in, out, accumulate);
}

extern "C" __global__ void __launch_bounds__(128)
matmul_mma32(const float* x, const __nv_bfloat16* w, const float* bias, float* y, int n, int in, int out, int accumulate) {
    mma_tile<1, 1>(x, w, bias, y, n, in, out, accumulate);
}

// The input rows (see Input; fp32, n rows) -> hi, lo (bf16, n_pad rows, zero beyond n) with value ~= hi + lo: the
// tensor-core kernels' operand. grid n_pad, block 256.
extern "C" __global__ void split_bf16(const float* __restrict__ x, const float* __restrict__ norm, float eps, int gated,
                                      __nv_bfloat16* __restrict__ hi, __nv_bfloat16* __restrict__ lo, int n, int in) {
    int t = blockIdx.x;
    size_t row_stride = gated ? 2 * (size_t)in : (size_t)in;
    const float* xr = x + t * row_stride;
    __nv_bfloat16* h = hi + (size_t)t * in;
    __nv_bfloat16* l = lo + (size_t)t * in;
    if (t >= n) {
        for (int i = threadIdx.x; i < in; i += blockDim.x) { h[i] = __float2bfloat16(0.f); l[i] = __float2bfloat16(0.f); }
        return;
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
    for (int i = threadIdx.x; i < in; i += blockDim.x) {
        float v = gated ? silu_mul(xr[i], xr[i + in]) : xr[i];
        if (norm) v = v * inv * norm[i];
        __nv_bfloat16 b = __float2bfloat16(v);
        h[i] = b;
        l[i] = __float2bfloat16(v - __bfloat162float(b));
    }
}

// Decode batches: block = 8 warps computing NT x 16 output columns for all MT x 16 (padded) rows; the warps split
// the reduction dimension (k-steps of 16 strided by 8) and their partial fragments are summed in shared memory.
// Weight fragments are loaded straight from global memory, so every weight byte is read exactly once per step.
// grid (ceil(out / (16 NT)), k splits); needs in % 16 == 0 and out % 16 == 0. With k splits > 1 the blocks add into
// y atomically, so y must hold the residual (accumulate) or zeros.
template <int MT, int NT>
__device__ __forceinline__ void stream_mma(const __nv_bfloat16* __restrict__ xhi, const __nv_bfloat16* __restrict__ xlo,
                                           const __nv_bfloat16* __restrict__ w, const float* __restrict__ bias,
                                           float* __restrict__ y, int n, int in, int out, int accumulate) {
    constexpr int BN = 16 * NT, BM = 16 * MT, WARPS = 8;
    __shared__ __align__(32) float red[BM * BN];
    int warp = threadIdx.x >> 5;
    int col0 = blockIdx.x * BN;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[MT][NT];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) wmma::fill_fragment(acc[i][j], 0.f);
    int ksteps = in >> 4;
    int stride = WARPS * gridDim.y;
    // One k-step of weights loaded ahead of the one being multiplied, so loads stay in flight behind the MMAs.
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b[NT], nb[NT];
    int ks = blockIdx.y * WARPS + warp;
    if (ks < ksteps) {
#pragma unroll
        for (int j = 0; j < NT; j++) wmma::load_matrix_sync(nb[j], w + (size_t)min(col0 + 16 * j, out - 16) * in + (ks << 4), in);
    }
    for (; ks < ksteps; ks += stride) {
        int k = ks << 4;
#pragma unroll
        for (int j = 0; j < NT; j++) b[j] = nb[j];
        if (ks + stride < ksteps) {
#pragma unroll
            for (int j = 0; j < NT; j++)
                wmma::load_matrix_sync(nb[j], w + (size_t)min(col0 + 16 * j, out - 16) * in + k + (stride << 4), in);
        }
#pragma unroll
        for (int i = 0; i < MT; i++) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> ah, al;
            wmma::load_matrix_sync(ah, xhi + (size_t)(16 * i) * in + k, in);
            wmma::load_matrix_sync(al, xlo + (size_t)(16 * i) * in + k, in);
#pragma unroll
            for (int j = 0; j < NT; j++) {
                wmma::mma_sync(acc[i][j], ah, b[j], acc[i][j]);
                wmma::mma_sync(acc[i][j], al, b[j], acc[i][j]);
            }
        }
    }
    // Sum the warps' partial fragments: same fragment type, same element layout in every warp.
    for (int turn = 0; turn < WARPS; turn++) {
        if (warp == turn) {
#pragma unroll
            for (int i = 0; i < MT; i++)
#pragma unroll
                for (int j = 0; j < NT; j++) {
                    float* tile = red + (16 * i) * BN + 16 * j;
                    if (turn > 0) {
                        wmma::fragment<wmma::accumulator, 16, 16, 16, float> prev;
                        wmma::load_matrix_sync(prev, tile, BN, wmma::mem_row_major);
#pragma unroll
                        for (int e = 0; e < prev.num_elements; e++) acc[i][j].x[e] += prev.x[e];
                    }
                    wmma::store_matrix_sync(tile, acc[i][j], BN, wmma::mem_row_major);
                }
        }
        __syncthreads();
    }
    for (int e = threadIdx.x; e < BM * BN; e += blockDim.x) {
        int r = e / BN, c = e % BN;
        if (r < n && col0 + c < out) {
            size_t i = (size_t)r * out + col0 + c;
            float v = red[e] + (bias && blockIdx.y == 0 ? bias[col0 + c] : 0.f);
            if (gridDim.y > 1) atomicAdd(y + i, v); // split over k: y holds the residual or was zeroed
            else y[i] = accumulate ? y[i] + v : v;
        }
    }
}

#define STREAM(MT, NT)                                                                                              \
    extern "C" __global__ void __launch_bounds__(256)                                                                \
    matmul_stream##MT##_##NT(const __nv_bfloat16* xhi, const __nv_bfloat16* xlo, const __nv_bfloat16* w,           \
                             const float* bias, float* y, int n, int in, int out, int accumulate) {                 \
        stream_mma<MT, NT>(xhi, xlo, w, bias, y, n, in, out, accumulate);                                           \
    }
STREAM(1, 1)
STREAM(2, 1)
STREAM(4, 1)
STREAM(1, 2)
STREAM(2, 2)
STREAM(4, 2)

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
                    float* y, int n, int in, int out, int accumulate) {                                            \
        tile_mma<MT>(xhi, xlo, w, bias, y, n, in, out, accumulate);                                                 \
    }
TILE(1)
TILE(2)
TILE(4)

// matmul_tile with one k tile of lookahead: the next tile's weight fragments and x values are loaded into registers
// while the current tile is multiplied, and x is double-buffered in shared memory, so a block keeps global loads in
// flight all the time instead of once per tile. Same grid, arguments and results as matmul_tile.
template <int MT>
__device__ __forceinline__ void pipe_mma(const __nv_bfloat16* __restrict__ xhi, const __nv_bfloat16* __restrict__ xlo,
                                         const __nv_bfloat16* __restrict__ w, const float* __restrict__ bias,
                                         float* __restrict__ y, int n, int in, int out, int accumulate) {
    constexpr int BM = 16 * MT, BK = 64, LDA = BK + 8, NT = 2, WARPS = 8, S = BK / 16;
    constexpr int APT = (BM * (BK / 8) + 255) / 256; // 16-byte x chunks per thread per tile
    __shared__ __align__(32) __nv_bfloat16 ah_s[2][BM * LDA];
    __shared__ __align__(32) __nv_bfloat16 al_s[2][BM * LDA];
    __shared__ __align__(32) float stage[WARPS][16 * 16];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int colw = blockIdx.x * (WARPS * 16 * NT) + warp * 16 * NT;
    int ksteps = in >> 4;
    int per = (ksteps + gridDim.y - 1) / gridDim.y;
    int kbeg = blockIdx.y * per, kend = min(ksteps, kbeg + per);

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[MT][NT];
#pragma unroll
    for (int i = 0; i < MT; i++)
#pragma unroll
        for (int j = 0; j < NT; j++) wmma::fill_fragment(acc[i][j], 0.f);

    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b[S][NT], nb[S][NT];
    uint4 rh[APT], rl[APT];
    auto load_w = [&](int kt, decltype(b)& dst) {
#pragma unroll
        for (int s = 0; s < S; s++)
#pragma unroll
            for (int j = 0; j < NT; j++)
                if (kt + s < kend) {
                    int col = min(colw + 16 * j, out - 16);
                    wmma::load_matrix_sync(dst[s][j], w + (size_t)col * in + ((kt + s) << 4), in);
                }
    };
    auto load_x = [&](int kt) {
#pragma unroll
        for (int a = 0; a < APT; a++) {
            int e = threadIdx.x + a * 256;
            rh[a] = make_uint4(0, 0, 0, 0);
            rl[a] = make_uint4(0, 0, 0, 0);
            if (e < BM * (BK / 8)) {
                int r = e / (BK / 8), c = (e % (BK / 8)) * 8;
                if ((kt << 4) + c < (kend << 4)) {
                    rh[a] = *reinterpret_cast<const uint4*>(xhi + (size_t)r * in + (kt << 4) + c);
                    rl[a] = *reinterpret_cast<const uint4*>(xlo + (size_t)r * in + (kt << 4) + c);
                }
            }
        }
    };
    auto store_x = [&](int buf) {
#pragma unroll
        for (int a = 0; a < APT; a++) {
            int e = threadIdx.x + a * 256;
            if (e < BM * (BK / 8)) {
                int r = e / (BK / 8), c = (e % (BK / 8)) * 8;
                *reinterpret_cast<uint4*>(ah_s[buf] + r * LDA + c) = rh[a];
                *reinterpret_cast<uint4*>(al_s[buf] + r * LDA + c) = rl[a];
            }
        }
    };

    if (kbeg < kend) {
        load_w(kbeg, b);
        load_x(kbeg);
        store_x(0);
    }
    int buf = 0;
    for (int kt = kbeg; kt < kend; kt += S) {
        __syncthreads(); // x tile kt is in ah_s[buf] / al_s[buf]
        bool more = kt + S < kend;
        if (more) {
            load_w(kt + S, nb);
            load_x(kt + S);
        }
        int steps = min(S, kend - kt);
#pragma unroll
        for (int s = 0; s < S; s++) {
            if (s < steps) {
#pragma unroll
                for (int i = 0; i < MT; i++) {
                    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> ah, al;
                    wmma::load_matrix_sync(ah, ah_s[buf] + (16 * i) * LDA + 16 * s, LDA);
                    wmma::load_matrix_sync(al, al_s[buf] + (16 * i) * LDA + 16 * s, LDA);
#pragma unroll
                    for (int j = 0; j < NT; j++) {
                        wmma::mma_sync(acc[i][j], ah, b[s][j], acc[i][j]);
                        wmma::mma_sync(acc[i][j], al, b[s][j], acc[i][j]);
                    }
                }
            }
        }
        if (more) {
            store_x(buf ^ 1); // the other buffer: its last readers finished before this iteration's barrier
#pragma unroll
            for (int s = 0; s < S; s++)
#pragma unroll
                for (int j = 0; j < NT; j++) b[s][j] = nb[s][j];
        }
        buf ^= 1;
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

#define PIPE(MT)                                                                                                    \
    extern "C" __global__ void __launch_bounds__(256)                                                                \
    matmul_pipe##MT(const __nv_bfloat16* xhi, const __nv_bfloat16* xlo, const __nv_bfloat16* w, const float* bias, \
                    float* y, int n, int in, int out, int accumulate) {                                            \
        pipe_mma<MT>(xhi, xlo, w, bias, y, n, in, out, accumulate);                                                 \
    }
PIPE(1)
PIPE(2)
PIPE(4)
