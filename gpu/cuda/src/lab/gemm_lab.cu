// Standalone check and timing of the wgmma GEMM (hopper_gemm.cu) against an fp32 reference and against the
// weight-streaming stream_gemm8 that prefill uses today, on the Qwen2.5-1.5B matmul shapes. Not part of the jar:
// tools/gemm_lab.sh builds it into .dev/gemmlab/ with nvcc (sm_90a, static cudart), and .dev/gemmlab/run.sh runs it
// on an H100 / H200.
//
// Per case (rows M x shape): every hopper_gemm kernel (128- and 64-row tiles, split-K clusters, FP8 weights: _w8
// against x times the codes widened back, times the row scales) is checked with accumulate off (y pre-filled with NaN, so an
// unwritten element fails) and on (y pre-filled with random values that must be added), as max |y - expected| /
// max |expected|; hi + lo kernels against the fp32 reference of x = hi + lo, hi-only kernels (_hi) against the
// reference of x = hi (the "vs hi+lo" column shows what dropping lo costs). PASS: relative error <= 1e-4 (only the
// summation order differs). Then TFLOP/s = 2 M N K / time, GPU time of REPS back-to-back launches by cudaEvents.
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lab_common.cuh"
#include "../main/cuda/hopper_gemm.cu"
#include "../main/cuda/stream_gemm.cu"


namespace lab {
constexpr int REPS = 20;
constexpr double TOL = 1e-4;

__device__ __forceinline__ float uniform(uint64_t seed, uint64_t i) { // splitmix64 -> [-1, 1)
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 1;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)((z >> 40) * (1.0 / 8388608.0)) - 1.f;
}
__global__ void fill_f32(float* p, size_t count, uint64_t seed, float scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        p[i] = uniform(seed, i) * scale;
}
__global__ void fill_bf16(__nv_bfloat16* p, size_t count, uint64_t seed, float scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count; i += (size_t)gridDim.x * blockDim.x)
        p[i] = __float2bfloat16(uniform(seed, i) * scale);
}
// x (fp32, m rows) -> hi + lo as split_bf16 does; rows m..rows-1 zero (the padding ForwardPass keeps)
__global__ void split(const float* x, __nv_bfloat16* hi, __nv_bfloat16* lo, int m, int rows, int k) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (size_t)rows * k; i += (size_t)gridDim.x * blockDim.x) {
        float v = i < (size_t)m * k ? x[i] : 0.f;
        __nv_bfloat16 h = __float2bfloat16(v);
        hi[i] = h;
        lo[i] = __float2bfloat16(v - __bfloat162float(h));
    }
}
// fp32 reference of both operand forms: hi[t, o] = sum_k hi[t, k] w[o, k], hilo the same with hi + lo. 64 x 64 tiles,
// 256 threads with 4 x 4 outputs each.
__global__ void __launch_bounds__(256) reference(const __nv_bfloat16* xh, const __nv_bfloat16* xl,
                                                 const __nv_bfloat16* w, float* ref_hi, float* ref_hilo, int m, int n,
                                                 int k) {
    __shared__ float sh[16][65], sl[16][65], sw[16][65];
    const int t0 = blockIdx.y * 64, o0 = blockIdx.x * 64, tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float ah[4][4] = {}, al[4][4] = {};
    for (int k0 = 0; k0 < k; k0 += 16) {
        for (int e = threadIdx.x; e < 64 * 16; e += 256) {
            int r = e >> 4, kk = e & 15;
            int t = t0 + r, o = o0 + r;
            sh[kk][r] = t < m ? __bfloat162float(xh[(size_t)t * k + k0 + kk]) : 0.f;
            sl[kk][r] = t < m ? __bfloat162float(xl[(size_t)t * k + k0 + kk]) : 0.f;
            sw[kk][r] = o < n ? __bfloat162float(w[(size_t)o * k + k0 + kk]) : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < 16; kk++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                float h = sh[kk][ty * 4 + i], l = h + sl[kk][ty * 4 + i];
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    float wv = sw[kk][tx * 4 + j];
                    ah[i][j] = fmaf(h, wv, ah[i][j]);
                    al[i][j] = fmaf(l, wv, al[i][j]);
                }
            }
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int t = t0 + ty * 4 + i, o = o0 + tx * 4 + j;
            if (t < m && o < n) {
                ref_hi[(size_t)t * n + o] = ah[i][j];
                ref_hilo[(size_t)t * n + o] = al[i][j];
            }
        }
}
// out[0] = max |y - (ref + bias + y0)| (inf for NaN), out[1] = max |ref + bias + y0|, as float bits (non-negative)
__global__ void compare(const float* y, const float* ref, const float* bias, const float* y0, int m, int n,
                        unsigned* out) {
    float d = 0.f, e = 0.f;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (size_t)m * n; i += (size_t)gridDim.x * blockDim.x) {
        float expect = ref[i] + bias[i % n] + (y0 ? y0[i] : 0.f);
        float diff = fabsf(y[i] - expect);
        d = fmaxf(d, isnan(diff) ? INFINITY : diff);
        e = fmaxf(e, fabsf(expect));
    }
    atomicMax(out, __float_as_uint(d));
    atomicMax(out + 1, __float_as_uint(e));
}

// W -> FP8 E4M3 codes with a scale per row (amax / 448, as Fp8Weight), and the codes widened back to bf16 (exact), whose
// product with x times the row's scale is what the _w8 kernels must give. One block per row.
__global__ void quantize_rows(const __nv_bfloat16* w, uint8_t* codes, float* scales, __nv_bfloat16* wdec, int cols) {
    __shared__ float red[256];
    const __nv_bfloat16* row = w + (size_t)blockIdx.x * cols;
    float amax = 0.f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) amax = fmaxf(amax, fabsf(__bfloat162float(row[c])));
    red[threadIdx.x] = amax;
    __syncthreads();
    for (int o = 128; o > 0; o >>= 1) {
        if (threadIdx.x < o) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + o]);
        __syncthreads();
    }
    const float scale = red[0] > 0.f ? red[0] / 448.f : 1.f;
    if (threadIdx.x == 0) scales[blockIdx.x] = scale;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        __nv_fp8_storage_t q = __nv_cvt_float_to_fp8(__bfloat162float(row[c]) / scale, __NV_SATFINITE, __NV_E4M3);
        codes[(size_t)blockIdx.x * cols + c] = q;
        __half_raw h = __nv_cvt_fp8_to_halfraw(q, __NV_E4M3);
        wdec[(size_t)blockIdx.x * cols + c] = __float2bfloat16(__half2float(*reinterpret_cast<__half*>(&h)));
    }
}
__global__ void scale_columns(float* y, const float* scales, int m, int n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (size_t)m * n; i += (size_t)gridDim.x * blockDim.x)
        y[i] *= scales[i % n];
}

typedef void (*GemmFn)(const __nv_bfloat16*, const __nv_bfloat16*, const void*, const float*, const float*, float*, int,
                       int, int, int);
struct Hopper {
    const char* name;
    GemmFn fn;
    int bm, bn, split, stages;
    bool lo, w8;
    int smem() const { return stages * ((lo ? 2 : 1) * bm + bn + (w8 ? bn / 2 : 0)) * 128 + 1024; }
};
// keep in step with the HOPPER_GEMM list at the end of hopper_gemm.cu
const Hopper HOPPERS[] = {
    {"hopper_gemm_n256", hopper_gemm_n256, 128, 256, 1, 3, true, false},
    {"hopper_gemm_n192", hopper_gemm_n192, 128, 192, 1, 4, true, false},
    {"hopper_gemm_n128", hopper_gemm_n128, 128, 128, 1, 4, true, false},
    {"hopper_gemm_n128_s2", hopper_gemm_n128_s2, 128, 128, 2, 4, true, false},
    {"hopper_gemm_n128_s4", hopper_gemm_n128_s4, 128, 128, 4, 4, true, false},
    {"hopper_gemm_n128_s8", hopper_gemm_n128_s8, 128, 128, 8, 4, true, false},
    {"hopper_gemm_m64_n256", hopper_gemm_m64_n256, 64, 256, 1, 4, true, false},
    {"hopper_gemm_m64_n128", hopper_gemm_m64_n128, 64, 128, 1, 6, true, false},
    {"hopper_gemm_m64_n128_s2", hopper_gemm_m64_n128_s2, 64, 128, 2, 4, true, false},
    {"hopper_gemm_m64_n128_s4", hopper_gemm_m64_n128_s4, 64, 128, 4, 4, true, false},
    {"hopper_gemm_m64_n128_s8", hopper_gemm_m64_n128_s8, 64, 128, 8, 4, true, false},
    {"hopper_gemm_n256_k0", hopper_gemm_n256_k0, 128, 256, 1, 3, true, false},
    {"hopper_gemm_n256_hi", hopper_gemm_n256_hi, 128, 256, 1, 4, false, false},
    {"hopper_gemm_n192_hi", hopper_gemm_n192_hi, 128, 192, 1, 5, false, false},
    {"hopper_gemm_n128_hi", hopper_gemm_n128_hi, 128, 128, 1, 6, false, false},
    {"hopper_gemm_n256_hi_k0", hopper_gemm_n256_hi_k0, 128, 256, 1, 4, false, false},
    {"hopper_gemm_n256_w8", hopper_gemm_n256_w8, 128, 256, 1, 2, true, true},
    {"hopper_gemm_n192_w8", hopper_gemm_n192_w8, 128, 192, 1, 3, true, true},
    {"hopper_gemm_n128_w8", hopper_gemm_n128_w8, 128, 128, 1, 4, true, true},
    {"hopper_gemm_m64_n256_w8", hopper_gemm_m64_n256_w8, 64, 256, 1, 3, true, true},
    {"hopper_gemm_m64_n128_w8", hopper_gemm_m64_n128_w8, 64, 128, 1, 5, true, true},
    {"hopper_gemm_m64_n128_s2_w8", hopper_gemm_m64_n128_s2_w8, 64, 128, 2, 4, true, true},
    {"hopper_gemm_m64_n128_s4_w8", hopper_gemm_m64_n128_s4_w8, 64, 128, 4, 4, true, true},
    {"hopper_gemm_m64_n128_s8_w8", hopper_gemm_m64_n128_s8_w8, 64, 128, 8, 4, true, true},
    {"hopper_gemm_n128_s2_w8", hopper_gemm_n128_s2_w8, 128, 128, 2, 4, true, true},
    {"hopper_gemm_n128_s4_w8", hopper_gemm_n128_s4_w8, 128, 128, 4, 4, true, true},
    {"hopper_gemm_n128_s8_w8", hopper_gemm_n128_s8_w8, 128, 128, 8, 4, true, true},
};
typedef void (*StreamFn)(const __nv_bfloat16*, const __nv_bfloat16*, const __nv_bfloat16*, const float*, float*, int,
                         int, int, int);
struct Stream {
    const char* name;
    StreamFn fn;
    int nt, bo, smem;
    bool lo;
};
// stream_gemm as ForwardPass launches it by default (gemmHint 2; slices of 8 nt rows: nt by the row count, 4 stages
// and 256 columns a unit up to 3, else 3 stages and 128 columns), and its best hi-only 64-row candidate
const Stream STREAMS[] = {
    {"stream_gemm2_h2", stream_gemm2_h2, 2, 256, 4 * (256 * 64 * 2 + 2 * 16 * 64 * 2), true},
    {"stream_gemm4_h2", stream_gemm4_h2, 4, 128, 3 * (128 * 64 * 2 + 2 * 32 * 64 * 2), true},
    {"stream_gemm6_h2", stream_gemm6_h2, 6, 128, 3 * (128 * 64 * 2 + 2 * 48 * 64 * 2), true},
    {"stream_gemm8_h2", stream_gemm8_h2, 8, 128, 3 * (128 * 64 * 2 + 2 * 64 * 64 * 2), true},
    {"stream_gemm8_m2_s3_w2_b3_hi", stream_gemm8_m2_s3_w2_b3_hi, 8, 128, 3 * (128 * 64 * 2 + 64 * 64 * 2), false},
};
// ForwardPass's choice of nt for m rows (n <= 8 is 1, not in this table: the lab starts at 9 rows)
int stream_nt(int m) { return m <= 16 ? 2 : m <= 32 ? 4 : m <= 48 ? 6 : 8; }

struct Shape {
    const char* name;
    int out, in;
};

struct Bufs {
    float *x, *bias, *y, *y0, *ref_hi, *ref_hilo, *ref_w8, *scales;
    __nv_bfloat16 *hi, *lo, *w, *wdec;
    uint8_t* codes;
    unsigned* cmp;
};

typedef void (*TmaFn)(const CUtensorMap, const CUtensorMap, const CUtensorMap, const float*, float*, int, int, int, int);
struct Tma {
    const char* name;
    TmaFn fn;
    int bn, stages;
    bool lo;
    int smem() const { return stages * ((lo ? 2 : 1) * 128 + bn) * 128 + 16 * stages + 1024; }
};
// keep in step with the HOPPER_GEMM_TMA list at the end of ../main/cuda/hopper_gemm_tma.cuh
const Tma TMAS[] = {
    {"hopper_gemm_tma_n256", hopper_gemm_tma_n256, 256, 3, true},
    {"hopper_gemm_tma_n128", hopper_gemm_tma_n128, 128, 4, true},
    {"hopper_gemm_tma_n256_hi", hopper_gemm_tma_n256_hi, 256, 4, false},
    {"hopper_gemm_tma_n128_hi", hopper_gemm_tma_n128_hi, 128, 6, false},
};

typedef CUresult (*EncodeTiled)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
EncodeTiled encode_tiled; // the driver's cuTensorMapEncodeTiled (no -lcuda: the runtime hands out the entry point)

// a [rows, cols] row-major bf16 matrix read as boxes of 64 columns x box_rows rows, 128-byte swizzled; rows beyond
// `rows` read as zeros
CUtensorMap tensor_map(const void* p, int rows, int cols, int box_rows) {
    CUtensorMap m;
    cuuint64_t dims[2] = {(cuuint64_t)cols, (cuuint64_t)rows}, strides[1] = {(cuuint64_t)cols * 2};
    cuuint32_t box[2] = {64, (cuuint32_t)box_rows}, elem[2] = {1, 1};
    CUresult r = encode_tiled(&m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void*>(p), dims, strides, box, elem,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                              CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        fprintf(stderr, "cuTensorMapEncodeTiled: error %d\n", (int)r);
        exit(2);
    }
    return m;
}

int sms;

// ceil(n / bm) * ceil(out / bn) * split blocks (a cluster of split each): the same grid as HopperGemm.launch
void launch_hopper(const Hopper& h, const Bufs& b, int m, const Shape& s, int accumulate) {
    int blocks = (m + h.bm - 1) / h.bm * ((s.out + h.bn - 1) / h.bn) * h.split;
    h.fn<<<blocks, 256, h.smem()>>>(b.hi, b.lo, h.w8 ? (const void*)b.codes : (const void*)b.w, h.w8 ? b.scales : nullptr,
                                    b.bias, b.y, m, s.in, s.out, accumulate);
}
void launch_stream(const Stream& st, const Bufs& b, int m, const Shape& s) {
    static int per_sm[8] = {};
    int idx = (int)(&st - STREAMS);
    if (!per_sm[idx]) CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm[idx], st.fn, 256, st.smem));
    int slices = (m + 8 * st.nt - 1) / (8 * st.nt);
    long long units = (long long)((s.out + st.bo - 1) / st.bo) * slices * (s.in / 64);
    int grid = (int)std::min(units, (long long)std::max(1, per_sm[idx]) * sms);
    st.fn<<<grid, 256, st.smem>>>(b.hi, b.lo, b.w, b.bias, b.y, m, s.in, s.out, slices);
}

void launch_tma(const Tma& h, const Bufs& b, int m, const struct Shape& s, int accumulate) {
    CUtensorMap xh = tensor_map(b.hi, m, s.in, 128), xl = tensor_map(b.lo, m, s.in, 128),
                w = tensor_map(b.w, s.out, s.in, h.bn);
    int blocks = (m + 127) / 128 * ((s.out + h.bn - 1) / h.bn);
    h.fn<<<blocks, hgt::THREADS, h.smem()>>>(xh, xl, w, b.bias, b.y, m, s.in, s.out, accumulate);
}

double rel_error(const Bufs& b, const float* ref, int m, const Shape& s, bool with_y0) {
    CK(cudaMemset(b.cmp, 0, 8));
    compare<<<4 * sms, 256>>>(b.y, ref, b.bias, with_y0 ? b.y0 : nullptr, m, s.out, b.cmp);
    unsigned h[2];
    CK(cudaMemcpy(h, b.cmp, 8, cudaMemcpyDeviceToHost));
    float d, e;
    memcpy(&d, &h[0], 4);
    memcpy(&e, &h[1], 4);
    return e > 0 ? d / e : d;
}

// One kernel's case: written over NaN with accumulate 0 (every element must be written), then added to y0 with
// accumulate 1, each against ref (and the first also against the bf16 hi + lo reference), then timed.
struct Checked {
    double e0, e1, vs_hilo, us;
    bool ok;
};

template <class Launch>
Checked check_and_time(Launch launch, const Bufs& b, const float* ref, int m, const Shape& s) {
    size_t ny = (size_t)m * s.out;
    Checked c;
    CK(cudaMemset(b.y, 0xff, sizeof(float) * ny));
    launch(0);
    CK(cudaGetLastError());
    c.e0 = rel_error(b, ref, m, s, false);
    c.vs_hilo = rel_error(b, b.ref_hilo, m, s, false);
    CK(cudaMemcpy(b.y, b.y0, sizeof(float) * ny, cudaMemcpyDeviceToDevice));
    launch(1);
    c.e1 = rel_error(b, ref, m, s, true);
    c.ok = c.e0 <= TOL && c.e1 <= TOL;
    c.us = time_us([&] { launch(0); }, REPS);
    CK(cudaGetLastError());
    return c;
}

} // namespace lab

int main(int argc, char** argv) {
    using namespace lab;
    setvbuf(stdout, nullptr, _IOLBF, 0); // a run cut short by a timeout keeps the lines it printed
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    sms = prop.multiProcessorCount;
    printf("# %s, %d SMs, compute capability %d.%d\n", prop.name, sms, prop.major, prop.minor);
    if (prop.major != 9 || prop.minor != 0) {
        printf("FAIL: the sm_90a kernels need compute capability 9.0\n");
        return 1;
    }
    for (const Hopper& h : HOPPERS)
        CK(cudaFuncSetAttribute(h.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, h.smem()));
    for (const Tma& h : TMAS) CK(cudaFuncSetAttribute(h.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, h.smem()));
    {
        cudaDriverEntryPointQueryResult q;
        CK(cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", reinterpret_cast<void**>(&encode_tiled), cudaEnableDefault, &q));
        if (q != cudaDriverEntryPointSuccess || !encode_tiled) {
            fprintf(stderr, "no cuTensorMapEncodeTiled in this driver\n");
            exit(2);
        }
    }
    for (const Stream& st : STREAMS)
        CK(cudaFuncSetAttribute(st.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, st.smem));

    // Qwen2.5-1.5B: q/k/v fused, o, gate/up fused, down, lm_head; "tail": out a multiple of 16 but of no BN, short K
    const Shape shapes[] = {{"qkv", 2048, 1536}, {"o", 1536, 1536},      {"gate_up", 17920, 1536},
                            {"down", 1536, 8960}, {"lm_head", 151936, 1536}, {"tail", 1040, 512}};
    std::vector<int> rows = {16, 32, 64, 128, 256, 512, 1024, 2048};
    // GEMM_LAB_TMA=1: the TMA kernels too, after the others of each case (run it as a second pass: a kernel that hangs
    // on its mbarriers then costs only that pass)
    const char* tma_env = getenv("GEMM_LAB_TMA");
    const bool tma_pass = tma_env && strcmp(tma_env, "1") == 0;
    if (argc > 1) { // optional: a comma-separated list of row counts
        rows.clear();
        for (char* p = strtok(argv[1], ","); p; p = strtok(nullptr, ",")) rows.push_back(atoi(p));
    }
    int max_m = 0;
    for (int m : rows) max_m = std::max(max_m, m);
    size_t max_out = 0, max_in = 0, max_w = 0, max_y = 0;
    for (const Shape& s : shapes) {
        max_out = std::max(max_out, (size_t)s.out);
        max_in = std::max(max_in, (size_t)s.in);
        max_w = std::max(max_w, (size_t)s.out * s.in);
        max_y = std::max(max_y, (size_t)max_m * s.out);
    }
    size_t pad_rows = (max_m + 63) / 64 * 64;
    Bufs b;
    CK(cudaMalloc(&b.x, sizeof(float) * max_m * max_in));
    CK(cudaMalloc(&b.hi, 2 * pad_rows * max_in));
    CK(cudaMalloc(&b.lo, 2 * pad_rows * max_in));
    CK(cudaMalloc(&b.w, 2 * max_w));
    CK(cudaMalloc(&b.bias, sizeof(float) * max_out));
    for (float** p : {&b.y, &b.y0, &b.ref_hi, &b.ref_hilo, &b.ref_w8}) CK(cudaMalloc(p, sizeof(float) * max_y));
    CK(cudaMalloc(&b.wdec, 2 * max_w));
    CK(cudaMalloc(&b.codes, max_w));
    CK(cudaMalloc(&b.scales, sizeof(float) * max_out));
    CK(cudaMalloc(&b.cmp, 8));

    printf("%-5s %-8s %6s %5s  %-28s %9s %9s %9s  %-4s %9s %7s\n", "M", "shape", "out", "in", "kernel", "err acc0",
           "err acc1", "vs hi+lo", "ok", "us", "TFLOP/s");
    int failures = 0;
    for (int m : rows) {
        int padded = (m + 63) / 64 * 64;
        for (const Shape& s : shapes) {
            size_t ny = (size_t)m * s.out;
            fill_f32<<<1024, 256>>>(b.x, (size_t)m * s.in, 1, 1.f);
            split<<<1024, 256>>>(b.x, b.hi, b.lo, m, padded, s.in);
            fill_bf16<<<1024, 256>>>(b.w, (size_t)s.out * s.in, 2, 0.05f);
            fill_f32<<<1024, 256>>>(b.bias, s.out, 3, 0.5f);
            fill_f32<<<1024, 256>>>(b.y0, ny, 4, 1.f);
            reference<<<dim3((s.out + 63) / 64, (m + 63) / 64), 256>>>(b.hi, b.lo, b.w, b.ref_hi, b.ref_hilo, m,
                                                                        s.out, s.in);
            quantize_rows<<<s.out, 256>>>(b.w, b.codes, b.scales, b.wdec, s.in);
            reference<<<dim3((s.out + 63) / 64, (m + 63) / 64), 256>>>(b.hi, b.lo, b.wdec, b.y, b.ref_w8, m, s.out,
                                                                        s.in); // b.y: scratch for the unused hi-only one
            scale_columns<<<1024, 256>>>(b.ref_w8, b.scales, m, s.out);
            CK(cudaGetLastError());
            double flops = 2.0 * m * s.out * s.in;
            double best = 1e30;
            const char* best_name = "";
            for (const Hopper& h : HOPPERS) {
                const float* ref = h.w8 ? b.ref_w8 : h.lo ? b.ref_hilo : b.ref_hi;
                Checked c = check_and_time([&](int acc) { launch_hopper(h, b, m, s, acc); }, b, ref, m, s);
                failures += !c.ok;
                if (c.ok && h.lo && !h.w8 && c.us < best) { // bf16 weights, x as hi + lo: as stream_gemm
                    best = c.us;
                    best_name = h.name;
                }
                printf("%-5d %-8s %6d %5d  %-28s %9.1e %9.1e %9.1e  %-4s %9.1f %7.1f\n", m, s.name, s.out, s.in, h.name,
                       c.e0, c.e1, c.vs_hilo, c.ok ? "PASS" : "FAIL", c.us, flops / c.us / 1e6);
            }
            double stream_best = 1e30;
            for (const Stream& st : STREAMS) {
                if (st.nt != stream_nt(m)) continue;
                CK(cudaMemset(b.y, 0, sizeof(float) * ny)); // stream_gemm adds into y (split_bf16 zeroes it)
                launch_stream(st, b, m, s);
                CK(cudaGetLastError());
                double e0 = rel_error(b, st.lo ? b.ref_hilo : b.ref_hi, m, s, false);
                bool ok = e0 <= TOL;
                failures += !ok;
                double us = time_us([&] { launch_stream(st, b, m, s); }, REPS);
                CK(cudaGetLastError());
                printf("%-5d %-8s %6d %5d  %-28s %9.1e %9s %9s  %-4s %9.1f %7.1f\n", m, s.name, s.out, s.in, st.name, e0,
                       "-", "-", ok ? "PASS" : "FAIL", us, flops / us / 1e6);
                if (st.lo) stream_best = std::min(stream_best, us);
            }
            // the TMA + warp-specialized variants: only in the TMA pass (a hang there cannot hide the cases above)
            double tma_best = 1e30;
            for (const Tma& h : TMAS) {
                if (!tma_pass) break;
                Checked c = check_and_time([&](int acc) { launch_tma(h, b, m, s, acc); }, b,
                                           h.lo ? b.ref_hilo : b.ref_hi, m, s);
                failures += !c.ok;
                if (c.ok && h.lo) tma_best = std::min(tma_best, c.us);
                printf("%-5d %-8s %6d %5d  %-28s %9.1e %9.1e %9.1e  %-4s %9.1f %7.1f\n", m, s.name, s.out, s.in, h.name,
                       c.e0, c.e1, c.vs_hilo, c.ok ? "PASS" : "FAIL", c.us, flops / c.us / 1e6);
            }
            if (tma_pass)
                printf("%-5d %-8s best tma (hi + lo): %.1f us, %.1f TFLOP/s, %.2fx the best cp.async hopper_gemm\n", m,
                       s.name, tma_best, flops / tma_best / 1e6, best / tma_best);
            printf("%-5d %-8s best hopper_gemm: %s %.1f us, %.1f TFLOP/s; stream_gemm %.1f us: %.2fx\n", m, s.name,
                   best_name, best, flops / best / 1e6, stream_best, stream_best / best);
        }
    }
    CK(cudaDeviceSynchronize());
    printf(failures ? "FAIL: %d case(s)\n" : "PASS: all cases\n", failures);
    return failures ? 1 : 0;
}
