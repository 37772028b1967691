// Causal attention over the paged KV cache, for decode rows and prefill chunks alike: the query of a token at
// position p attends over positions [0, p] of its own sequence, found through the sequence's block table. The key
// range may be split over gridDim.z blocks (flash-decoding) so that a few long sequences still fill the GPU; the
// partial results are then merged by attention_combine.
#include <cuda_bf16.h>
#include <math_constants.h>
#include "pdl.cuh"

#define MAX_HEAD_DIM 256
#define MAX_J (MAX_HEAD_DIM / 32)
#define WARPS 4

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }

// grid (tokens, heads, splits), block 32 * WARPS. head_dim must be a multiple of 32. KV: the cache's element type.
template <typename KV>
__device__ __forceinline__ void
attention(const float* __restrict__ qkv, float* __restrict__ out, float* __restrict__ part_acc,
          float* __restrict__ part_ml, const int* __restrict__ positions, const int* __restrict__ seq_of_token,
          const int* __restrict__ tables, int table_width, const KV* __restrict__ k_cache,
          const KV* __restrict__ v_cache, int block_size, int num_heads, int num_kv_heads, int head_dim, float scale) {
    int t = blockIdx.x, h = blockIdx.y, s = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int J = head_dim >> 5;
    int kv_dim = num_kv_heads * head_dim;
    int kvh = h / (num_heads / num_kv_heads);
    int ctx = positions[t] + 1;
    int chunk = (ctx + splits - 1) / splits;
    int begin = s * chunk, end = min(ctx, begin + chunk);
    const int* table = tables + (size_t)seq_of_token[t] * table_width;
    const float* qrow = qkv + (size_t)t * (num_heads * head_dim + 2 * kv_dim) + h * head_dim;

    float q[MAX_J], acc[MAX_J];
#pragma unroll
    for (int j = 0; j < MAX_J; j++) {
        q[j] = j < J ? qrow[lane + 32 * j] * scale : 0.f;
        acc[j] = 0.f;
    }
    float m = -CUDART_INF_F, l = 0.f;
    for (int p = begin + warp; p < end; p += WARPS) {
        size_t base = ((size_t)(table[p / block_size] * block_size + p % block_size) * num_kv_heads + kvh) * head_dim;
        const KV* k = k_cache + base;
        const KV* v = v_cache + base;
        float dot = 0.f;
#pragma unroll
        for (int j = 0; j < MAX_J; j++) if (j < J) dot += q[j] * to_f(k[lane + 32 * j]);
        dot = warp_sum(dot);
        float m_new = fmaxf(m, dot);
        float corr = __expf(m - m_new);
        float e = __expf(dot - m_new);
        l = l * corr + e;
#pragma unroll
        for (int j = 0; j < MAX_J; j++) if (j < J) acc[j] = acc[j] * corr + e * to_f(v[lane + 32 * j]);
        m = m_new;
    }

    __shared__ float sm_m[WARPS], sm_l[WARPS];
    __shared__ float sm_acc[WARPS][MAX_HEAD_DIM];
    if (lane == 0) { sm_m[warp] = m; sm_l[warp] = l; }
#pragma unroll
    for (int j = 0; j < MAX_J; j++) if (j < J) sm_acc[warp][lane + 32 * j] = acc[j];
    __syncthreads();
    float M = -CUDART_INF_F;
    for (int w = 0; w < WARPS; w++) M = fmaxf(M, sm_m[w]);
    float L = 0.f, wgt[WARPS];
    for (int w = 0; w < WARPS; w++) {
        wgt[w] = sm_l[w] > 0.f ? __expf(sm_m[w] - M) : 0.f;
        L += sm_l[w] * wgt[w];
    }
    size_t unit = (size_t)t * num_heads + h;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float a = 0.f;
        for (int w = 0; w < WARPS; w++) a += sm_acc[w][d] * wgt[w];
        if (splits == 1) out[unit * head_dim + d] = a / L;
        else part_acc[(unit * splits + s) * head_dim + d] = a;
    }
    if (splits > 1 && threadIdx.x == 0) {
        part_ml[(unit * splits + s) * 2] = M;
        part_ml[(unit * splits + s) * 2 + 1] = L;
    }
}

#define ATTENTION(NAME, KV)                                                                                          \
    extern "C" __global__ void __launch_bounds__(32 * WARPS)                                                          \
    NAME(const float* qkv, float* out, float* part_acc, float* part_ml, const int* positions, const int* seq_of_token, \
         const int* tables, int table_width, const KV* k_cache, const KV* v_cache, int block_size, int num_heads,    \
         int num_kv_heads, int head_dim, float scale) { pdl_enter();                                                 \
        attention<KV>(qkv, out, part_acc, part_ml, positions, seq_of_token, tables, table_width, k_cache, v_cache,  \
                      block_size, num_heads, num_kv_heads, head_dim, scale);                                         \
    }
ATTENTION(paged_attention_bf16, __nv_bfloat16)
ATTENTION(paged_attention_f32, float)

// Merges the splits of paged_attention: grid (tokens, heads), block >= head_dim threads.
// hi / lo (may be null): the output also as bf16 hi + lo (split_bf16's x ~= hi + lo), the o projection's input
extern "C" __global__ void attention_combine(const float* __restrict__ part_acc, const float* __restrict__ part_ml,
                                             float* __restrict__ out, int num_heads, int head_dim, int splits,
                                             __nv_bfloat16* __restrict__ hi, __nv_bfloat16* __restrict__ lo) {
    pdl_enter();
    size_t unit = (size_t)blockIdx.x * num_heads + blockIdx.y;
    int d = threadIdx.x;
    if (d >= head_dim) return;
    const float* ml = part_ml + unit * splits * 2;
    float M = -CUDART_INF_F;
    for (int s = 0; s < splits; s++) if (ml[2 * s + 1] > 0.f) M = fmaxf(M, ml[2 * s]);
    float L = 0.f, a = 0.f;
    for (int s = 0; s < splits; s++) {
        float l = ml[2 * s + 1];
        if (l > 0.f) {
            float w = __expf(ml[2 * s] - M);
            L += l * w;
            a += part_acc[(unit * splits + s) * head_dim + d] * w;
        }
    }
    float v = a / L;
    out[unit * head_dim + d] = v;
    if (hi != nullptr) {
        __nv_bfloat16 h = __float2bfloat16(v);
        hi[unit * head_dim + d] = h;
        lo[unit * head_dim + d] = __float2bfloat16(v - __bfloat162float(h));
    }
}

// Decode and prefill attention over a bf16 paged cache, grouped by KV head: the g = num_heads / num_kv_heads query
// heads that share a K/V head are handled by one block, so every K and V row is read once for all of them (the
// kernel above reads it once per query head), and lanes work on several positions at once: a group of HD / 8 lanes
// takes one position with one 16-byte load of K and of V each (8 dims per lane), and the next position's loads are
// issued before the current one is used. The per-position latency chain (table, load, dot, reduce, exp) was what
// limited the kernel above at batch 64 and in prefill.
// grid (tokens, kv_heads * parts, splits), block 32 * WARPS; g / parts <= G. Same outputs and split partials as
// paged_attention. parts = gridDim.y / kv_heads > 1 gives each block g / parts of the group's query heads (K/V rows
// then read by each part, the second time mostly from L2): fewer registers for q and acc, so more warps per SM for a
// kernel whose per-position chain (load, dot, shuffles, exp) is latency-bound.
template <int HD, int G, int NW = WARPS>
__device__ __forceinline__ void
attention_gqa(const float* __restrict__ qkv, float* __restrict__ out, float* __restrict__ part_acc,
              float* __restrict__ part_ml, const int* __restrict__ positions, const int* __restrict__ seq_of_token,
              const int* __restrict__ tables, int table_width, const __nv_bfloat16* __restrict__ k_cache,
              const __nv_bfloat16* __restrict__ v_cache, int block_size, int num_heads, int num_kv_heads, float scale) {
    constexpr int L = HD / 8;        // lanes per position
    constexpr int PG = 32 / L;       // positions per warp at a time
    constexpr int GROUPS = NW * PG;
    // more than 4 warps: the PG groups of a warp merge by shuffles first, so shared memory holds one partial per warp
    constexpr bool PRE = NW > 4;
    constexpr int SLOTS = PRE ? NW : GROUPS;
    const int parts = gridDim.y / num_kv_heads;
    int t = blockIdx.x, kvh = blockIdx.y / parts, s = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int sub = lane / L, li = lane % L;
    int g = num_heads / num_kv_heads / parts;
    int head0 = kvh * (num_heads / num_kv_heads) + (blockIdx.y % parts) * g; // this block's first query head
    int kv_dim = num_kv_heads * HD;
    int ctx = positions[t] + 1;
    int chunk = (ctx + splits - 1) / splits;
    int begin = s * chunk, end = min(ctx, begin + chunk);
    const int* table = tables + (size_t)seq_of_token[t] * table_width;
    const float* qrow = qkv + (size_t)t * (num_heads * HD + 2 * kv_dim) + (size_t)head0 * HD + li * 8;
    int grp = warp * PG + sub;

    float q[G][8], acc[G][8], m[G], l[G];
#pragma unroll
    for (int j = 0; j < G; j++) {
        m[j] = -CUDART_INF_F;
        l[j] = 0.f;
        float4 a = make_float4(0.f, 0.f, 0.f, 0.f), b = a;
        if (j < g) {
            a = *reinterpret_cast<const float4*>(qrow + j * HD);
            b = *reinterpret_cast<const float4*>(qrow + j * HD + 4);
        }
        q[j][0] = a.x * scale; q[j][1] = a.y * scale; q[j][2] = a.z * scale; q[j][3] = a.w * scale;
        q[j][4] = b.x * scale; q[j][5] = b.y * scale; q[j][6] = b.z * scale; q[j][7] = b.w * scale;
#pragma unroll
        for (int e = 0; e < 8; e++) acc[j][e] = 0.f;
    }
    auto fetch = [&](int p, uint4& kr, uint4& vr) {
        kr = vr = make_uint4(0, 0, 0, 0);
        if (p < end) {
            size_t base = (size_t)(table[p / block_size] * block_size + p % block_size) * kv_dim + kvh * HD + li * 8;
            kr = *reinterpret_cast<const uint4*>(k_cache + base);
            vr = *reinterpret_cast<const uint4*>(v_cache + base);
        }
    };
    // every lane runs the same number of steps (the shuffles need the whole warp); p is this group's position
    int steps = (end - begin + GROUPS - 1) / GROUPS;
    uint4 kr, vr;
    fetch(begin + grp, kr, vr);
    for (int i = 0; i < steps; i++) {
        int p = begin + i * GROUPS + grp;
        uint4 kn, vn;
        fetch(p + GROUPS, kn, vn);
        float kf[8], vf[8];
        const __nv_bfloat162* k2 = reinterpret_cast<const __nv_bfloat162*>(&kr);
        const __nv_bfloat162* v2 = reinterpret_cast<const __nv_bfloat162*>(&vr);
#pragma unroll
        for (int e = 0; e < 4; e++) {
            float2 a = __bfloat1622float2(k2[e]), b = __bfloat1622float2(v2[e]);
            kf[2 * e] = a.x; kf[2 * e + 1] = a.y; vf[2 * e] = b.x; vf[2 * e + 1] = b.y;
        }
        bool ok = p < end;
#pragma unroll
        for (int j = 0; j < G; j++) {
            if (j < g) {
                float dot = 0.f;
#pragma unroll
                for (int e = 0; e < 8; e++) dot += q[j][e] * kf[e];
#pragma unroll
                for (int o = L / 2; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
                if (ok) {
                    float m_new = fmaxf(m[j], dot);
                    float corr = __expf(m[j] - m_new);
                    float w = __expf(dot - m_new);
                    l[j] = l[j] * corr + w;
#pragma unroll
                    for (int e = 0; e < 8; e++) acc[j][e] = acc[j][e] * corr + w * vf[e];
                    m[j] = m_new;
                }
            }
        }
        kr = kn;
        vr = vn;
    }

    if (PRE) {
#pragma unroll
        for (int o = L; o < 32; o <<= 1) {
#pragma unroll
            for (int j = 0; j < G; j++) {
                float m2 = __shfl_xor_sync(0xffffffffu, m[j], o), l2 = __shfl_xor_sync(0xffffffffu, l[j], o);
                float M = fmaxf(m[j], m2);
                float w1 = l[j] > 0.f ? __expf(m[j] - M) : 0.f, w2 = l2 > 0.f ? __expf(m2 - M) : 0.f;
#pragma unroll
                for (int e = 0; e < 8; e++) acc[j][e] = acc[j][e] * w1 + __shfl_xor_sync(0xffffffffu, acc[j][e], o) * w2;
                l[j] = l[j] * w1 + l2 * w2;
                m[j] = M;
            }
        }
    }
    const int slot = PRE ? warp : grp;
    const bool writer = PRE ? sub == 0 : true;
    // merge the SLOTS partial softmaxes of every head
    __shared__ float sm_ml[SLOTS][G][2];
    __shared__ float sm_acc[SLOTS][G][HD];
#pragma unroll
    for (int j = 0; j < G; j++) {
        if (j < g && writer) {
            if (li == 0) { sm_ml[slot][j][0] = m[j]; sm_ml[slot][j][1] = l[j]; }
#pragma unroll
            for (int e = 0; e < 8; e++) sm_acc[slot][j][li * 8 + e] = acc[j][e];
        }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < g * HD; idx += blockDim.x) {
        int j = idx / HD, d = idx % HD;
        float M = -CUDART_INF_F;
        for (int r = 0; r < SLOTS; r++) if (sm_ml[r][j][1] > 0.f) M = fmaxf(M, sm_ml[r][j][0]);
        float Lsum = 0.f, a = 0.f;
        for (int r = 0; r < SLOTS; r++) {
            float lr = sm_ml[r][j][1];
            if (lr > 0.f) {
                float w = __expf(sm_ml[r][j][0] - M);
                Lsum += lr * w;
                a += sm_acc[r][j][d] * w;
            }
        }
        size_t unit = (size_t)t * num_heads + head0 + j;
        if (splits == 1) out[unit * HD + d] = a / Lsum;
        else {
            part_acc[(unit * splits + s) * HD + d] = a;
            if (d == 0) { part_ml[(unit * splits + s) * 2] = M; part_ml[(unit * splits + s) * 2 + 1] = Lsum; }
        }
    }
}

// paged_attention_gqa<HD>_<G>: for g = num_heads / num_kv_heads <= G
#define ATTENTION_GQA_W(HD, G, NW, NAME)                                                                             \
    extern "C" __global__ void __launch_bounds__(32 * NW, NW > 4 ? 2 : 1)                                             \
    NAME(const float* qkv, float* out, float* part_acc, float* part_ml, const int* positions, \
                                  const int* seq_of_token, const int* tables, int table_width,                        \
                                  const __nv_bfloat16* k_cache, const __nv_bfloat16* v_cache, int block_size,         \
                                  int num_heads, int num_kv_heads, float scale) { pdl_enter();                        \
        attention_gqa<HD, G, NW>(qkv, out, part_acc, part_ml, positions, seq_of_token, tables, table_width, k_cache,      \
                             v_cache, block_size, num_heads, num_kv_heads, scale);                                    \
    }
#define ATTENTION_GQA(HD, G) ATTENTION_GQA_W(HD, G, WARPS, paged_attention_gqa##HD##_##G)                               \
    ATTENTION_GQA_W(HD, G, 8, paged_attention_gqa##HD##_##G##_w8)
#define ATTENTION_GQA_ALL(HD) ATTENTION_GQA(HD, 2) ATTENTION_GQA(HD, 3) ATTENTION_GQA(HD, 4) ATTENTION_GQA(HD, 6) \
    ATTENTION_GQA(HD, 8)
ATTENTION_GQA_ALL(32)
ATTENTION_GQA_ALL(64)
ATTENTION_GQA_ALL(128)
ATTENTION_GQA_ALL(256)
