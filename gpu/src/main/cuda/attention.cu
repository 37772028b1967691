// Causal attention over the paged KV cache, for decode rows and prefill chunks alike: the query of a token at
// position p attends over positions [0, p] of its own sequence, found through the sequence's block table. The key
// range may be split over gridDim.z blocks (flash-decoding) so that a few long sequences still fill the GPU; the
// partial results are then merged by attention_combine.
#include <cuda_bf16.h>
#include <math_constants.h>

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
         int num_kv_heads, int head_dim, float scale) {                                                              \
        attention<KV>(qkv, out, part_acc, part_ml, positions, seq_of_token, tables, table_width, k_cache, v_cache,  \
                      block_size, num_heads, num_kv_heads, head_dim, scale);                                         \
    }
ATTENTION(paged_attention_bf16, __nv_bfloat16)
ATTENTION(paged_attention_f32, float)

// Merges the splits of paged_attention: grid (tokens, heads), block >= head_dim threads.
extern "C" __global__ void attention_combine(const float* __restrict__ part_acc, const float* __restrict__ part_ml,
                                             float* __restrict__ out, int num_heads, int head_dim, int splits) {
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
    out[unit * head_dim + d] = a / L;
}

// Decode and prefill attention over a bf16 paged cache, grouped by KV head: the g = num_heads / num_kv_heads query
// heads that share a K/V head are handled by one block, so every K and V row is read once for all of them (the
// kernel above reads it once per query head), and lanes work on several positions at once: a group of HD / 8 lanes
// takes one position with one 16-byte load of K and of V each (8 dims per lane), and the next position's loads are
// issued before the current one is used. The per-position latency chain (table, load, dot, reduce, exp) was what
// limited the kernel above at batch 64 and in prefill.
// grid (tokens, kv_heads, splits), block 32 * WARPS; g <= G. Same outputs and split partials as paged_attention.
//
// DECODE (every token its own sequence, no q/k norm): also does rope_kv_write's work and attention_combine's, two
// launches fewer per layer. Each block ropes its q heads and the token's k in registers (same arithmetic as
// rope_kv_write), uses the token's own k and v (rounded to bf16, as the cache would hold them) for the current
// position, and the block owning that position writes them to the cache; with splits, the block that finishes last
// for its (token, KV head) (a ticket counter, reset for the next launch) merges the partials like attention_combine.
template <int HD, int G, bool DECODE>
__device__ __forceinline__ void
attention_gqa(const float* __restrict__ qkv, float* __restrict__ out, float* __restrict__ part_acc,
              float* __restrict__ part_ml, const int* __restrict__ positions, const int* __restrict__ seq_of_token,
              const int* __restrict__ tables, int table_width, __nv_bfloat16* __restrict__ k_cache,
              __nv_bfloat16* __restrict__ v_cache, int block_size, int num_heads, int num_kv_heads, float scale,
              const int* __restrict__ slots, const float* __restrict__ inv_freq, unsigned* __restrict__ tickets) {
    constexpr int L = HD / 8;        // lanes per position
    constexpr int PG = 32 / L;       // positions per warp at a time
    constexpr int GROUPS = WARPS * PG;
    int t = blockIdx.x, kvh = blockIdx.y, s = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int sub = lane / L, li = lane % L;
    int g = num_heads / num_kv_heads;
    int kv_dim = num_kv_heads * HD;
    int ctx = positions[t] + 1;
    int chunk = (ctx + splits - 1) / splits;
    int begin = s * chunk, end = min(ctx, begin + chunk);
    const int* table = tables + (size_t)seq_of_token[t] * table_width;
    const float* qrow = qkv + (size_t)t * (num_heads * HD + 2 * kv_dim) + (size_t)kvh * g * HD + li * 8;
    int grp = warp * PG + sub;

    // DECODE: rotate_half RoPE of this lane's 8 dims, whose partners (d +- HD/2) sit in lane li ^ (L/2)
    const int pos = ctx - 1;
    float rc[8], rs[8];
    bool low = li < L / 2;
    if (DECODE) {
#pragma unroll
        for (int e = 0; e < 8; e++) {
            float angle = (float)pos * inv_freq[(li * 8 + e) % (HD / 2)];
            rc[e] = cosf(angle);
            rs[e] = sinf(angle);
        }
    }
    auto rope = [&](float (&v)[8]) {
#pragma unroll
        for (int e = 0; e < 8; e++) {
            float other = __shfl_xor_sync(0xffffffffu, v[e], L / 2);
            v[e] = low ? v[e] * rc[e] - other * rs[e] : v[e] * rc[e] + other * rs[e];
        }
    };

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
        float v[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
        if (DECODE) rope(v);
#pragma unroll
        for (int e = 0; e < 8; e++) {
            q[j][e] = v[e] * scale;
            acc[j][e] = 0.f;
        }
    }
    // DECODE: the token's own k (roped) and v, as bf16, for position pos; written to the cache by the block owning pos
    uint4 kcur = make_uint4(0, 0, 0, 0), vcur = kcur;
    if (DECODE) {
        const float* krow = qkv + (size_t)t * (num_heads * HD + 2 * kv_dim) + num_heads * HD + kvh * HD + li * 8;
        float kv[8], vv[8];
#pragma unroll
        for (int e = 0; e < 8; e++) kv[e] = krow[e], vv[e] = krow[kv_dim + e];
        rope(kv);
        __nv_bfloat162* k2 = reinterpret_cast<__nv_bfloat162*>(&kcur);
        __nv_bfloat162* v2 = reinterpret_cast<__nv_bfloat162*>(&vcur);
#pragma unroll
        for (int e = 0; e < 4; e++) {
            k2[e] = __halves2bfloat162(__float2bfloat16(kv[2 * e]), __float2bfloat16(kv[2 * e + 1]));
            v2[e] = __halves2bfloat162(__float2bfloat16(vv[2 * e]), __float2bfloat16(vv[2 * e + 1]));
        }
        if (begin <= pos && pos < end && grp == 0) {
            size_t dst = (size_t)slots[t] * kv_dim + kvh * HD + li * 8;
            *reinterpret_cast<uint4*>(k_cache + dst) = kcur;
            *reinterpret_cast<uint4*>(v_cache + dst) = vcur;
        }
    }
    auto fetch = [&](int p, uint4& kr, uint4& vr) {
        kr = vr = make_uint4(0, 0, 0, 0);
        if (DECODE && p == pos) {
            kr = kcur;
            vr = vcur;
        } else if (p < end) {
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

    // merge the GROUPS partial softmaxes of every head
    __shared__ float sm_ml[GROUPS][G][2];
    __shared__ float sm_acc[GROUPS][G][HD];
#pragma unroll
    for (int j = 0; j < G; j++) {
        if (j < g) {
            if (li == 0) { sm_ml[grp][j][0] = m[j]; sm_ml[grp][j][1] = l[j]; }
#pragma unroll
            for (int e = 0; e < 8; e++) sm_acc[grp][j][li * 8 + e] = acc[j][e];
        }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < g * HD; idx += blockDim.x) {
        int j = idx / HD, d = idx % HD;
        float M = -CUDART_INF_F;
        for (int r = 0; r < GROUPS; r++) if (sm_ml[r][j][1] > 0.f) M = fmaxf(M, sm_ml[r][j][0]);
        float Lsum = 0.f, a = 0.f;
        for (int r = 0; r < GROUPS; r++) {
            float lr = sm_ml[r][j][1];
            if (lr > 0.f) {
                float w = __expf(sm_ml[r][j][0] - M);
                Lsum += lr * w;
                a += sm_acc[r][j][d] * w;
            }
        }
        size_t unit = (size_t)t * num_heads + kvh * g + j;
        if (splits == 1) out[unit * HD + d] = a / Lsum;
        else {
            part_acc[(unit * splits + s) * HD + d] = a;
            if (d == 0) { part_ml[(unit * splits + s) * 2] = M; part_ml[(unit * splits + s) * 2 + 1] = Lsum; }
        }
    }
    if (!DECODE || splits == 1) return;
    __shared__ bool last;
    __threadfence(); // this block's partials are visible before its ticket is
    __syncthreads();
    unsigned* ticket = tickets + (size_t)t * num_kv_heads + kvh;
    if (threadIdx.x == 0) last = atomicAdd(ticket, 1u) == (unsigned)splits - 1;
    __syncthreads();
    if (!last) return;
    __threadfence();
    for (int idx = threadIdx.x; idx < g * HD; idx += blockDim.x) { // attention_combine's arithmetic
        int j = idx / HD, d = idx % HD;
        size_t unit = (size_t)t * num_heads + kvh * g + j;
        const float* ml = part_ml + unit * splits * 2;
        float M = -CUDART_INF_F;
        for (int r = 0; r < splits; r++) if (__ldcg(ml + 2 * r + 1) > 0.f) M = fmaxf(M, __ldcg(ml + 2 * r));
        float Lsum = 0.f, a = 0.f;
        for (int r = 0; r < splits; r++) {
            float lr = __ldcg(ml + 2 * r + 1);
            if (lr > 0.f) {
                float w = __expf(__ldcg(ml + 2 * r) - M);
                Lsum += lr * w;
                a += __ldcg(part_acc + (unit * splits + r) * HD + d) * w;
            }
        }
        out[unit * HD + d] = a / Lsum;
    }
    if (threadIdx.x == 0) *ticket = 0;
}

// paged_attention_gqa<HD>_<G> and decode_attention_gqa<HD>_<G> (DECODE): for g = num_heads / num_kv_heads <= G
#define ATTENTION_GQA(HD, G)                                                                                         \
    extern "C" __global__ void __launch_bounds__(32 * WARPS)                                                          \
    paged_attention_gqa##HD##_##G(const float* qkv, float* out, float* part_acc, float* part_ml, const int* positions, \
                                  const int* seq_of_token, const int* tables, int table_width,                        \
                                  __nv_bfloat16* k_cache, __nv_bfloat16* v_cache, int block_size,                     \
                                  int num_heads, int num_kv_heads, float scale) {                                     \
        attention_gqa<HD, G, false>(qkv, out, part_acc, part_ml, positions, seq_of_token, tables, table_width,        \
                                    k_cache, v_cache, block_size, num_heads, num_kv_heads, scale, nullptr, nullptr,   \
                                    nullptr);                                                                         \
    }                                                                                                                 \
    extern "C" __global__ void __launch_bounds__(32 * WARPS)                                                          \
    decode_attention_gqa##HD##_##G(const float* qkv, float* out, float* part_acc, float* part_ml, const int* positions, \
                                   const int* seq_of_token, const int* tables, int table_width,                       \
                                   __nv_bfloat16* k_cache, __nv_bfloat16* v_cache, int block_size,                    \
                                   int num_heads, int num_kv_heads, float scale, const int* slots,                    \
                                   const float* inv_freq, unsigned* tickets) {                                        \
        attention_gqa<HD, G, true>(qkv, out, part_acc, part_ml, positions, seq_of_token, tables, table_width,         \
                                   k_cache, v_cache, block_size, num_heads, num_kv_heads, scale, slots, inv_freq,     \
                                   tickets);                                                                          \
    }
#define ATTENTION_GQA_ALL(HD) ATTENTION_GQA(HD, 2) ATTENTION_GQA(HD, 4) ATTENTION_GQA(HD, 6) ATTENTION_GQA(HD, 8)
ATTENTION_GQA_ALL(32)
ATTENTION_GQA_ALL(64)
ATTENTION_GQA_ALL(128)
ATTENTION_GQA_ALL(256)
