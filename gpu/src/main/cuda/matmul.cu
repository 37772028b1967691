// y[n, out] (+)= x[n, in] . W[out, in]^T + bias, with fp32 activations x and y and bf16 weights W (PyTorch's Linear
// layout). Two kernels: for a few rows (decode) a warp streams one weight row with 16-byte loads and keeps x in fp32;
// for many rows (prefill, large decode batches) bf16 tensor-core tiles (WMMA), x rounded to bf16 on the way into
// shared memory. `accumulate` adds into y: that is the residual connection, fused into the projection's epilogue.
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
            __nv_bfloat16* d = As + r * LDS + c;
            d[0] = __float2bfloat16(v.x);
            d[1] = __float2bfloat16(v.y);
            d[2] = __float2bfloat16(v.z);
            d[3] = __float2bfloat16(v.w);
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
            wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a[FM];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b[FN];
#pragma unroll
            for (int i = 0; i < FM; i++) wmma::load_matrix_sync(a[i], As + (wm * 16 * FM + i * 16) * LDS + kk, LDS);
#pragma unroll
            for (int j = 0; j < FN; j++) wmma::load_matrix_sync(b[j], Bs + (wn * 16 * FN + j * 16) * LDS + kk, LDS);
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < FN; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
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
