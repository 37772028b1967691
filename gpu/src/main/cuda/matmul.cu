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

// grid ceil(out / 8), block 256: warp w of block b computes output column 8b + w for all n <= N rows.
template <int N>
__device__ __forceinline__ void gemv(const float* __restrict__ x, const __nv_bfloat16* __restrict__ w,
                                     const float* __restrict__ bias, float* __restrict__ y, int n, int in, int out,
                                     int accumulate) {
    int lane = threadIdx.x & 31;
    int o = blockIdx.x * 8 + (threadIdx.x >> 5);
    if (o >= out) return;
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
#pragma unroll
        for (int t = 0; t < N; t++) {
            if (t < n) {
                const float4* xv = reinterpret_cast<const float4*>(x + (size_t)t * in + c * 8);
                float4 a = xv[0], b = xv[1];
                acc[t] += a.x * wf[0] + a.y * wf[1] + a.z * wf[2] + a.w * wf[3]
                        + b.x * wf[4] + b.y * wf[5] + b.z * wf[6] + b.w * wf[7];
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
    matmul_gemv##N(const float* x, const __nv_bfloat16* w, const float* bias, float* y, int n, int in, int out,  \
                   int accumulate) {                                                                               \
        gemv<N>(x, w, bias, y, n, in, out, accumulate);                                                            \
    }
GEMV(1)
GEMV(2)
GEMV(4)
GEMV(8)

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

// x (fp32, n rows) -> hi, lo (bf16, n_pad rows, zero beyond n) with x ~= hi + lo: the tensor-core kernels' input.
extern "C" __global__ void split_bf16(const float* __restrict__ x, __nv_bfloat16* __restrict__ hi,
                                      __nv_bfloat16* __restrict__ lo, int n, int n_pad, int in) {
    size_t total = (size_t)n_pad * in;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float v = i < (size_t)n * in ? x[i] : 0.f;
        __nv_bfloat16 h = __float2bfloat16(v);
        hi[i] = h;
        lo[i] = __float2bfloat16(v - __bfloat162float(h));
    }
}

// Decode batches: block = 8 warps computing NT x 16 output columns for all MT x 16 (padded) rows; the warps split
// the reduction dimension (k-steps of 16 strided by 8) and their partial fragments are summed in shared memory.
// Weight fragments are loaded straight from global memory, so every weight byte is read exactly once per step.
// grid ceil(out / (16 NT)); needs in % 16 == 0 and out % 16 == 0.
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
#pragma unroll 2
    for (int ks = warp; ks < ksteps; ks += WARPS) {
        int k = ks << 4;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b[NT];
#pragma unroll
        for (int j = 0; j < NT; j++) {
            int col = min(col0 + 16 * j, out - 16);
            wmma::load_matrix_sync(b[j], w + (size_t)col * in + k, in);
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
            float v = red[e] + (bias ? bias[col0 + c] : 0.f);
            y[i] = accumulate ? y[i] + v : v;
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
