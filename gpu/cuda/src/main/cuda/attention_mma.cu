// Decode / prefill attention over a bf16 paged cache on tensor cores, grouped by KV head (head_dim 32, 64 or 128;
// g <= 8 query heads per KV head): the per-position chain of paged_attention_gqa (16-byte loads, dot, 4 shuffles, two exps, for
// every position and head) becomes mma.sync over tiles of 16 positions. Same grid, outputs and split partials as
// paged_attention_gqa: grid (tokens, kv_heads, splits), block 32 * NW.
//
// Per tile: S = Q K^T with the MMA's 16 rows holding the g heads' q as bf16 hi (rows 0..7) and lo (rows 8..15), so
// a lane's accumulator rows gid and gid + 8 sum to the fp32-accurate dot products; its columns are positions, which
// is the A-fragment layout P needs for O += P V (FlashAttention-2's register reuse), where rows 0..7 / 8..15 carry
// P's hi / lo halves in the same way. K and V are bf16 already, so results stay within fp32 rounding of the fp32
// kernels (the batched == single decode checks depend on that). Each warp takes every NW-th tile of the block's key
// range with its own double-buffered cp.async ring; the warps' softmax partials merge through shared memory.
#include <cuda_bf16.h>
#include <math_constants.h>
#include <stdint.h>

#include "attention_tiles.cuh"
#include "ptx_async_mma.cuh"
#include "pdl.cuh"

namespace {
constexpr int TILE = 16; // positions per tile
} // namespace

template <int HD, int NW>
__device__ __forceinline__ void
attention_mma(const float* __restrict__ qkv, float* __restrict__ out, float* __restrict__ part_acc,
              float* __restrict__ part_ml, const int* __restrict__ positions, const int* __restrict__ seq_of_token,
              const int* __restrict__ tables, int table_width, const __nv_bfloat16* __restrict__ k_cache,
              const __nv_bfloat16* __restrict__ v_cache, int block_size, int num_heads, int num_kv_heads, float scale) {
    constexpr int CH = HD / 8;                 // 16-byte chunks per K or V row
    constexpr int TILE_BYTES = TILE * HD * 2;
    extern __shared__ __align__(128) unsigned char smem[];
    const int t = blockIdx.x, kvh = blockIdx.y, s = blockIdx.z, splits = gridDim.z;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int gid = lane >> 2, tig = lane & 3; // MMA fragment row (head) and column pair
    const int g = num_heads / num_kv_heads;
    const int kv_dim = num_kv_heads * HD;
    const int ctx = positions[t] + 1;
    const int chunk = (ctx + splits - 1) / splits;
    const int begin = s * chunk, end = min(ctx, begin + chunk);
    const int* table = tables + (size_t)seq_of_token[t] * table_width;

    // Q staged once as the A operand's 16 rows: head j's q (scaled) as bf16 hi in row j, lo in row j + 8 (zero beyond g)
    const uint32_t qs = smem_u32(smem) + NW * 2 * 2 * TILE_BYTES;
    {
        const float* qrow = qkv + (size_t)t * (num_heads * HD + 2 * kv_dim) + (size_t)kvh * g * HD;
        for (int idx = threadIdx.x; idx < 8 * HD; idx += blockDim.x) {
            int j = idx / HD, d = idx % HD;
            float v = j < g ? qrow[j * HD + d] * scale : 0.f;
            __nv_bfloat16 hi = __float2bfloat16(v), lo = __float2bfloat16(v - __bfloat162float(hi));
            unsigned char* q8 = smem + NW * 2 * 2 * TILE_BYTES;
            *reinterpret_cast<__nv_bfloat16*>(q8 + swz<HD>(j, d >> 3) + (d & 7) * 2) = hi;
            *reinterpret_cast<__nv_bfloat16*>(q8 + swz<HD>(j + 8, d >> 3) + (d & 7) * 2) = lo;
        }
    }
    __syncthreads();

    const uint32_t kbase = smem_u32(smem) + warp * 2 * 2 * TILE_BYTES; // [stage][K, V][TILE_BYTES]
    // issue the cp.async of tile `base` (16 positions from base) into stage st; positions >= end read as zeros
    auto load = [&](int base, int st) {
        const uint32_t ks_ = kbase + st * 2 * TILE_BYTES, vs_ = ks_ + TILE_BYTES;
#pragma unroll
        for (int j = 0; j < TILE * CH / 32; j++) {
            int e = lane + 32 * j, r = e / CH, c = e % CH;
            int p = base + r;
            bool ok = p < end;
            size_t off = ok ? (size_t)(table[p / block_size] * block_size + p % block_size) * kv_dim + kvh * HD + c * 8 : 0;
            cp_async16_zfill(ks_ + swz<HD>(r, c), k_cache + off, ok);
            cp_async16_zfill(vs_ + swz<HD>(r, c), v_cache + off, ok);
        }
    };

    float o[HD / 8][4];
#pragma unroll
    for (int d = 0; d < HD / 8; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    float m = -CUDART_INF_F, l = 0.f; // row gid's running max and this lane's share of the sum

    int tile = begin + warp * TILE;
    if (tile < end) load(tile, 0);
    cp_async_commit();
    for (int i = 0; tile < end; i++, tile += NW * TILE) {
        int next = tile + NW * TILE;
        if (next < end) load(next, (i + 1) & 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncwarp();
        const uint32_t ks_ = kbase + (i & 1) * 2 * TILE_BYTES, vs_ = ks_ + TILE_BYTES;

        // S (hi/lo rows x 16 positions) as two n8 tiles
        float s0[4] = {0.f, 0.f, 0.f, 0.f}, s1[4] = {0.f, 0.f, 0.f, 0.f};
        const int mi = lane >> 3;
#pragma unroll
        for (int ks = 0; ks < HD / 16; ks++) {
            uint32_t a[4], b[4];
            // A: rows 0-7 / 8-15 at k 0-7, then at k 8-15; B: positions 0-7 / 8-15, each at k 0-7 and 8-15
            ldmatrix_x4(a, qs + swz<HD>((lane & 7) + ((mi & 1) << 3), 2 * ks + (mi >> 1)));
            ldmatrix_x4(b, ks_ + swz<HD>((lane & 7) + ((mi >> 1) << 3), 2 * ks + (mi & 1)));
            mma_bf16(s0, a, b[0], b[1]);
            mma_bf16(s1, a, b[2], b[3]);
        }
        s0[0] += s0[2]; s0[1] += s0[3]; // hi + lo rows: head gid at positions 2 tig, 2 tig + 1
        s1[0] += s1[2]; s1[1] += s1[3];
        // this lane's positions: tile + 2 tig + {0, 1} (s0) and + 8 (s1)
        int p0 = tile + 2 * tig;
        float sv[4] = {p0 < end ? s0[0] : -CUDART_INF_F, p0 + 1 < end ? s0[1] : -CUDART_INF_F,
                       p0 + 8 < end ? s1[0] : -CUDART_INF_F, p0 + 9 < end ? s1[1] : -CUDART_INF_F};
        float mx = fmaxf(fmaxf(sv[0], sv[1]), fmaxf(sv[2], sv[3]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        float m_new = fmaxf(m, mx); // finite: the tile's first position is < end
        float corr = __expf(m - m_new);
        float pv[4];
#pragma unroll
        for (int e = 0; e < 4; e++) pv[e] = __expf(sv[e] - m_new);
        l = l * corr + (pv[0] + pv[1]) + (pv[2] + pv[3]);
        m = m_new;
#pragma unroll
        for (int d = 0; d < HD / 8; d++) {
            o[d][0] *= corr;
            o[d][1] *= corr;
            o[d][2] *= corr;
            o[d][3] *= corr;
        }
        // P as A: row gid its hi, row gid + 8 its lo; k = positions 2 tig, 2 tig + 1 (a0, a1) and + 8 (a2, a3)
        uint32_t pa[4];
        split_pair(pv[0], pv[1], pa[0], pa[1]);
        split_pair(pv[2], pv[3], pa[2], pa[3]);
        // O += P V: V (16 positions x 8 dims per n8 tile) through ldmatrix.trans, two dim tiles per x4
#pragma unroll
        for (int dp = 0; dp < HD / 16; dp++) {
            uint32_t b[4];
            ldmatrix_x4_trans(b, vs_ + swz<HD>((lane & 7) + ((mi & 1) << 3), 2 * dp + (mi >> 1)));
            mma_bf16(o[2 * dp], pa, b[0], b[1]);
            mma_bf16(o[2 * dp + 1], pa, b[2], b[3]);
        }
        __syncwarp(); // every lane is done with this stage before the next iteration refills it
    }
    cp_async_wait<0>();
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);

    // merge the warps' partial softmaxes (the K/V ring is free now)
    __syncthreads();
    float* sm_o = reinterpret_cast<float*>(smem);          // [NW][8][HD]
    float* sm_ml = sm_o + NW * 8 * HD;                      // [NW][8][2]
    if (gid < g) {
#pragma unroll
        for (int d = 0; d < HD / 8; d++) { // rows gid (P hi) + gid + 8 (P lo)
            sm_o[(warp * 8 + gid) * HD + d * 8 + 2 * tig] = o[d][0] + o[d][2];
            sm_o[(warp * 8 + gid) * HD + d * 8 + 2 * tig + 1] = o[d][1] + o[d][3];
        }
        if (tig == 0) {
            sm_ml[(warp * 8 + gid) * 2] = m;
            sm_ml[(warp * 8 + gid) * 2 + 1] = l;
        }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < g * HD; idx += blockDim.x) {
        int j = idx / HD, d = idx % HD;
        float M = -CUDART_INF_F;
        for (int w = 0; w < NW; w++) if (sm_ml[(w * 8 + j) * 2 + 1] > 0.f) M = fmaxf(M, sm_ml[(w * 8 + j) * 2]);
        float Lsum = 0.f, a = 0.f;
        for (int w = 0; w < NW; w++) {
            float lw = sm_ml[(w * 8 + j) * 2 + 1];
            if (lw > 0.f) {
                float wt = __expf(sm_ml[(w * 8 + j) * 2] - M);
                Lsum += lw * wt;
                a += sm_o[(w * 8 + j) * HD + d] * wt;
            }
        }
        size_t unit = (size_t)t * num_heads + kvh * g + j;
        if (splits == 1) out[unit * HD + d] = a / Lsum;
        else {
            part_acc[(unit * splits + s) * HD + d] = a;
            if (d == 0) { part_ml[(unit * splits + s) * 2] = M; part_ml[(unit * splits + s) * 2 + 1] = Lsum; }
        }
    }
}

// paged_attention_mma<HD>: 4 warps; dynamic shared memory 4 * 2 * 2 * TILE_BYTES for the K/V rings + 16 * HD * 2 for q
// (CudaBackend.attentionMmaShared)
#define ATTENTION_MMA(HD)                                                                                            \
    extern "C" __global__ void __launch_bounds__(128)                                                                \
    paged_attention_mma##HD(const float* qkv, float* out, float* part_acc, float* part_ml, const int* positions,    \
                            const int* seq_of_token, const int* tables, int table_width,                            \
                            const __nv_bfloat16* k_cache, const __nv_bfloat16* v_cache, int block_size,             \
                            int num_heads, int num_kv_heads, float scale) { pdl_enter();                            \
        attention_mma<HD, 4>(qkv, out, part_acc, part_ml, positions, seq_of_token, tables, table_width, k_cache,    \
                             v_cache, block_size, num_heads, num_kv_heads, scale);                                  \
    }
ATTENTION_MMA(32)
ATTENTION_MMA(64)
ATTENTION_MMA(128)
