// Standalone check and timing of the tiled prefill attention (attention_prefill.cu) against a plain fp32 reference
// and against the per-token tensor-core kernel ForwardPass uses today (attention_mma.cu), on a bf16 paged cache with
// shuffled block tables. Not part of the jar: tools/attention_lab.sh builds it into .dev/attnlab/ with nvcc (sm_90,
// static cudart); .dev/attnlab/run.sh runs it on an H100 / H200.
//
// Per head size (32, 64, 128) and query heads per KV head (g = 2, 4, 6, 8), four step layouts: one 2048-token prompt;
// a 1000-token chunk over a 1048-token prefix already in the cache (chunked prefill); 64 decode rows beside a
// 1984-token chunk (a mixed step); 16 prompts of 128 (chunks ending inside the kernel's blocks). PASS: max |out - ref| /
// max |ref| <= 1e-3 for both kernels (bf16 K/V, q and P as bf16 hi + lo: fp32-level agreement is expected). Times: GPU
// time of back-to-back launches by cudaEvents.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "lab_common.cuh"
#include "../main/cuda/attention_mma.cu"
#include "../main/cuda/attention_prefill.cu"


namespace lab {
constexpr int BLOCK = 16; // positions per cache block, as the engine's default
constexpr double TOL = 1e-3;
constexpr int REPS = 10;

// fp32 softmax(q k^T * scale) v per (token, head), one block of 128 threads each: the reference
__global__ void reference(const float* qkv, float* out, const int* positions, const int* seq_of_token,
                          const int* tables, int width, const __nv_bfloat16* kc, const __nv_bfloat16* vc, int heads,
                          int kv_heads, int hd, float scale, float* scores) {
    const int t = blockIdx.x, h = blockIdx.y, g = heads / kv_heads, kvh = h / g, kv_dim = kv_heads * hd;
    const int ctx = positions[t] + 1;
    const float* q = qkv + (size_t)t * (heads * hd + 2 * kv_dim) + (size_t)h * hd;
    const int* table = tables + (size_t)seq_of_token[t] * width;
    float* s = scores + ((size_t)t * heads + h) * 4096;
    __shared__ float red[128];
    float mx = -INFINITY;
    for (int p = threadIdx.x; p < ctx; p += blockDim.x) {
        size_t off = (size_t)(table[p / BLOCK] * BLOCK + p % BLOCK) * kv_dim + kvh * hd;
        float dot = 0.f;
        for (int d = 0; d < hd; d++) dot += q[d] * scale * __bfloat162float(kc[off + d]);
        s[p] = dot;
        mx = fmaxf(mx, dot);
    }
    red[threadIdx.x] = mx;
    __syncthreads();
    for (int o = 64; o > 0; o >>= 1) {
        if (threadIdx.x < o) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + o]);
        __syncthreads();
    }
    mx = red[0];
    __syncthreads();
    float sum = 0.f;
    for (int p = threadIdx.x; p < ctx; p += blockDim.x) {
        s[p] = expf(s[p] - mx);
        sum += s[p];
    }
    red[threadIdx.x] = sum;
    __syncthreads();
    for (int o = 64; o > 0; o >>= 1) {
        if (threadIdx.x < o) red[threadIdx.x] += red[threadIdx.x + o];
        __syncthreads();
    }
    sum = red[0];
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float a = 0.f;
        for (int p = 0; p < ctx; p++) {
            size_t off = (size_t)(table[p / BLOCK] * BLOCK + p % BLOCK) * kv_dim + kvh * hd;
            a += s[p] * __bfloat162float(vc[off + d]);
        }
        out[((size_t)t * heads + h) * hd + d] = a / sum;
    }
}

// out[0] = max |a - b|, out[1] = max |b| (float bits)
__global__ void compare(const float* a, const float* b, size_t n, unsigned* out) {
    float d = 0.f, e = 0.f;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float diff = fabsf(a[i] - b[i]);
        d = fmaxf(d, isnan(diff) ? INFINITY : diff);
        e = fmaxf(e, fabsf(b[i]));
    }
    atomicMax(out, __float_as_uint(d));
    atomicMax(out + 1, __float_as_uint(e));
}

struct Chunk {
    int start, len; // positions [start, start + len) of one sequence, its prefix [0, start) already in the cache
};

struct Layout {
    const char* name;
    std::vector<Chunk> chunks;
};

typedef void (*PrefillFn)(const float*, float*, const int*, const int*, const int*, int, const __nv_bfloat16*,
                          const __nv_bfloat16*, int, int, int, float, int);
typedef void (*MmaFn)(const float*, float*, float*, float*, const int*, const int*, const int*, int,
                      const __nv_bfloat16*, const __nv_bfloat16*, int, int, int, float);

double rel(const float* a, const float* b, size_t n, unsigned* cmp) {
    CK(cudaMemset(cmp, 0, 8));
    compare<<<512, 256>>>(a, b, n, cmp);
    unsigned h[2];
    CK(cudaMemcpy(h, cmp, 8, cudaMemcpyDeviceToHost));
    float d, e;
    memcpy(&d, &h[0], 4);
    memcpy(&e, &h[1], 4);
    return e > 0 ? d / e : d;
}

} // namespace lab

int main() {
    using namespace lab;
    setvbuf(stdout, nullptr, _IOLBF, 0);
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("# %s, %d SMs\n", prop.name, prop.multiProcessorCount);
    std::vector<Layout> layouts = {{"one 2048-token prompt", {{0, 2048}}},
                                   {"1000 tokens over a 1048-token prefix", {{1048, 1000}}},
                                   {"64 decode rows + a 1984-token chunk", {}},
                                   {"16 prompts of 128", {}}};
    std::mt19937 rng(7);
    for (int i = 0; i < 64; i++) layouts[2].chunks.push_back({100 + (int)(rng() % 200), 1});
    layouts[2].chunks.push_back({0, 1984});
    for (int i = 0; i < 16; i++) layouts[3].chunks.push_back({0, 128});

    const PrefillFn prefill[] = {attention_prefill32, attention_prefill64, attention_prefill128};
    const MmaFn mma[] = {paged_attention_mma32, paged_attention_mma64, paged_attention_mma128};
    printf("%-4s %-2s %-38s %6s  %10s %10s  %-4s %10s %10s %7s\n", "HD", "g", "step", "rows", "err tiled",
           "err mma", "ok", "tiled us", "mma us", "speedup");
    int failures = 0;
    for (int hi = 0; hi < 3; hi++) {
        const int hd = 32 << hi;
        CK(cudaFuncSetAttribute(prefill[hi], cudaFuncAttributeMaxDynamicSharedMemorySize, 768 * hd));
        CK(cudaFuncSetAttribute(mma[hi], cudaFuncAttributeMaxDynamicSharedMemorySize, (16 + 1) * 16 * hd * 2));
        for (int g : {2, 4, 6, 8}) {
            const int kv_heads = 2, heads = g * kv_heads, kv_dim = kv_heads * hd, stride = heads * hd + 2 * kv_dim;
            const float scale = 1.f / sqrtf((float)hd);
            for (const Layout& lay : layouts) {
                // host: rows, positions, sequences, block tables (a shuffled pool of blocks)
                std::vector<int> pos, seq;
                int width = 0;
                for (size_t c = 0; c < lay.chunks.size(); c++) {
                    for (int j = 0; j < lay.chunks[c].len; j++) {
                        pos.push_back(lay.chunks[c].start + j);
                        seq.push_back((int)c);
                    }
                    width = std::max(width, (lay.chunks[c].start + lay.chunks[c].len + BLOCK - 1) / BLOCK);
                }
                const int n = (int)pos.size(), seqs = (int)lay.chunks.size(), blocks = seqs * width;
                std::vector<int> pool(blocks), tables(blocks);
                std::iota(pool.begin(), pool.end(), 0);
                std::shuffle(pool.begin(), pool.end(), rng);
                for (int i = 0; i < blocks; i++) tables[i] = pool[i];
                std::vector<float> q((size_t)n * stride);
                std::normal_distribution<float> normal(0.f, 1.f);
                for (float& v : q) v = normal(rng);
                std::vector<__nv_bfloat16> k((size_t)blocks * BLOCK * kv_dim), v(k.size());
                for (size_t i = 0; i < k.size(); i++) {
                    k[i] = __float2bfloat16(normal(rng));
                    v[i] = __float2bfloat16(normal(rng));
                }
                float *dq, *dout, *dref, *dmma, *scores, *pacc, *pml;
                int *dpos, *dseq, *dtab;
                __nv_bfloat16 *dk, *dv;
                unsigned* cmp;
                size_t outn = (size_t)n * heads * hd;
                CK(cudaMalloc(&dq, 4 * q.size()));
                CK(cudaMalloc(&dout, 4 * outn));
                CK(cudaMalloc(&dref, 4 * outn));
                CK(cudaMalloc(&dmma, 4 * outn));
                CK(cudaMalloc(&scores, 4ull * n * heads * 4096));
                CK(cudaMalloc(&pacc, 4));
                CK(cudaMalloc(&pml, 4));
                CK(cudaMalloc(&dpos, 4 * n));
                CK(cudaMalloc(&dseq, 4 * n));
                CK(cudaMalloc(&dtab, 4 * blocks));
                CK(cudaMalloc(&dk, 2 * k.size()));
                CK(cudaMalloc(&dv, 2 * v.size()));
                CK(cudaMalloc(&cmp, 8));
                CK(cudaMemcpy(dq, q.data(), 4 * q.size(), cudaMemcpyHostToDevice));
                CK(cudaMemcpy(dpos, pos.data(), 4 * n, cudaMemcpyHostToDevice));
                CK(cudaMemcpy(dseq, seq.data(), 4 * n, cudaMemcpyHostToDevice));
                CK(cudaMemcpy(dtab, tables.data(), 4 * blocks, cudaMemcpyHostToDevice));
                CK(cudaMemcpy(dk, k.data(), 2 * k.size(), cudaMemcpyHostToDevice));
                CK(cudaMemcpy(dv, v.data(), 2 * v.size(), cudaMemcpyHostToDevice));

                reference<<<dim3(n, heads), 128>>>(dq, dref, dpos, dseq, dtab, width, dk, dv, heads, kv_heads, hd,
                                                     scale, scores);
                CK(cudaGetLastError());
                const int tpb = 64 / g;
                auto run_tiled = [&] {
                    prefill[hi]<<<dim3((n + tpb - 1) / tpb, kv_heads), 128, 768 * hd>>>(
                        dq, dout, dpos, dseq, dtab, width, dk, dv, BLOCK, heads, kv_heads, scale, n);
                };
                auto run_mma = [&] { // one split: it writes out directly, as ForwardPass's many-row steps do
                    mma[hi]<<<dim3(n, kv_heads, 1), 128, (16 + 1) * 16 * hd * 2>>>(
                        dq, dmma, pacc, pml, dpos, dseq, dtab, width, dk, dv, BLOCK, heads, kv_heads, scale);
                };
                CK(cudaMemset(dout, 0xff, 4 * outn)); // NaN: every row must be written
                run_tiled();
                CK(cudaGetLastError());
                run_mma();
                CK(cudaGetLastError());
                double et = rel(dout, dref, outn, cmp), em = rel(dmma, dref, outn, cmp);
                bool ok = et <= TOL && em <= TOL;
                failures += !ok;
                double tt = time_us(run_tiled, REPS), tm = time_us(run_mma, REPS);
                printf("%-4d %-2d %-38s %6d  %10.1e %10.1e  %-4s %10.1f %10.1f %6.2fx\n", hd, g, lay.name, n, et, em,
                       ok ? "PASS" : "FAIL", tt, tm, tm / tt);
                for (void* p : {(void*)dq, (void*)dout, (void*)dref, (void*)dmma, (void*)scores, (void*)pacc,
                                (void*)pml, (void*)dpos, (void*)dseq, (void*)dtab, (void*)dk, (void*)dv, (void*)cmp})
                    CK(cudaFree(p));
            }
        }
    }
    printf(failures ? "FAIL: %d case(s)\n" : "PASS: all cases\n", failures);
    return failures ? 1 : 0;
}
