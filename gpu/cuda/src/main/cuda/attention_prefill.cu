// Prefill attention in FlashAttention-2's shape, over a bf16 paged cache (head_dim 32, 64 or 128; g <= 8 query heads per
// KV head). Why: the per-token kernels (attention_mma.cu, attention.cu) give every token its own block that reads its
// whole prefix, so a 2048-token prompt reads each key and value ~1000 times from L2. Here a block holds the q rows of
// TPB = 64 / g consecutive tokens x the g heads of one KV head (64 MMA rows, 16 per warp) and streams the keys and
// values of their sequence through shared memory once, 64 positions a tile, for all of them.
//
// Grid (ceil(n / TPB), kv_heads), 128 threads. Rows of a step are chunks, each one sequence's consecutive positions, so
// a block's TPB rows are one sequence's tokens except where a chunk ends inside them: the block then takes each
// sequence's run of rows in turn (a pass per run; decode rows, one token per sequence, take one pass each). Keys up to
// the last row's position are read, the prefix already in the cache included (chunked prefill), and each row masks
// the keys after its own position. No split-K: a prefill has blocks for every SM.
//
// Numerics as attention_mma.cu: q (scaled) as bf16 hi + lo and P as bf16 hi + lo, each a second MMA, fp32
// accumulation and online softmax, so results stay within fp32 rounding of the per-token kernels.
#include <cuda_bf16.h>
#include <math_constants.h>
#include <stdint.h>

#include "attention_tiles.cuh"
#include "ptx_async_mma.cuh"
#include "pdl.cuh"

namespace ap { // named: the attention lab compiles this file beside attention_mma.cu
constexpr int ROWS = 64; // MMA rows of a block: 4 warps x m16
constexpr int KT = 64;   // positions per K/V tile

template <int HD>
__device__ __forceinline__ void
attention_prefill(const float* __restrict__ qkv, float* __restrict__ out, const int* __restrict__ positions,
                  const int* __restrict__ seq_of_token, const int* __restrict__ tables, int table_width,
                  const __nv_bfloat16* __restrict__ k_cache, const __nv_bfloat16* __restrict__ v_cache, int block_size,
                  int num_heads, int num_kv_heads, float scale, int n) {
    constexpr int CH = HD / 8;             // 16-byte chunks per row
    constexpr int Q_BYTES = ROWS * HD * 2; // one of q hi / q lo
    constexpr int T_BYTES = KT * HD * 2;   // one K or V tile
    extern __shared__ __align__(128) unsigned char smem[];
    const uint32_t qhi = smem_u32(smem), qlo = qhi + Q_BYTES, kv = qlo + Q_BYTES; // kv: [stage][K, V][T_BYTES]
    const int kvh = blockIdx.y, g = num_heads / num_kv_heads, tpb = ROWS / g;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, gid = lane >> 2, tig = lane & 3, mi = lane >> 3;
    const int kv_dim = num_kv_heads * HD, stride = num_heads * HD + 2 * kv_dim;
    const int first = blockIdx.x * tpb, last = min(n, first + tpb);

    for (int seg = first; seg < last;) { // one pass per sequence among this block's rows
        const int sq = seq_of_token[seg];
        int seg_end = seg + 1, max_pos = positions[seg];
        while (seg_end < last && seq_of_token[seg_end] == sq) max_pos = max(max_pos, positions[seg_end++]);
        const int* table = tables + (size_t)sq * table_width;

        // q of row r = token r / g, head r % g (scaled), as bf16 hi and lo; rows outside this pass are zero
        for (int idx = threadIdx.x; idx < ROWS * HD; idx += blockDim.x) {
            const int r = idx / HD, d = idx % HD, t = first + r / g;
            const bool ok = r < tpb * g && t >= seg && t < seg_end;
            const float v = ok ? qkv[(size_t)t * stride + (size_t)(kvh * g + r % g) * HD + d] * scale : 0.f;
            const __nv_bfloat16 hi = __float2bfloat16(v), lo = __float2bfloat16(v - __bfloat162float(hi));
            *reinterpret_cast<__nv_bfloat16*>(smem + swz<HD>(r, d >> 3) + (d & 7) * 2) = hi;
            *reinterpret_cast<__nv_bfloat16*>(smem + Q_BYTES + swz<HD>(r, d >> 3) + (d & 7) * 2) = lo;
        }
        // this lane's two rows (gid, gid + 8 of the warp's 16): the last key each may see, -1 for none
        int row_pos[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int r = warp * 16 + gid + 8 * h, t = first + r / g;
            row_pos[h] = r < tpb * g && t >= seg && t < seg_end ? positions[t] : -1;
        }
        int warp_pos = max(row_pos[0], row_pos[1]);
#pragma unroll
        for (int o = 16; o >= 1; o >>= 1) warp_pos = max(warp_pos, __shfl_xor_sync(0xffffffffu, warp_pos, o));

        auto load = [&](int tile, int st) { // positions tile * KT.. into stage st; beyond max_pos zeros
            const uint32_t ks_ = kv + st * 2 * T_BYTES, vs_ = ks_ + T_BYTES;
            for (int e = threadIdx.x; e < KT * CH; e += blockDim.x) {
                const int r = e / CH, c = e % CH, p = tile * KT + r;
                const bool ok = p <= max_pos;
                const size_t off =
                    ok ? (size_t)(table[p / block_size] * block_size + p % block_size) * kv_dim + kvh * HD + c * 8 : 0;
                cp_async16_zfill(ks_ + swz<HD>(r, c), k_cache + off, ok);
                cp_async16_zfill(vs_ + swz<HD>(r, c), v_cache + off, ok);
            }
        };

        float o[HD / 8][4];
#pragma unroll
        for (int d = 0; d < HD / 8; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
        float m[2] = {-CUDART_INF_F, -CUDART_INF_F}, l[2] = {0.f, 0.f};

        const int tiles = max_pos / KT + 1;
        load(0, 0);
        cp_async_commit();
        for (int kt = 0; kt < tiles; kt++) {
            if (kt + 1 < tiles) load(kt + 1, (kt + 1) & 1);
            cp_async_commit();
            cp_async_wait<1>();
            __syncthreads(); // tile kt (and q, on the first) visible to every warp
            const uint32_t ks_ = kv + (kt & 1) * 2 * T_BYTES, vs_ = ks_ + T_BYTES;
            if (kt * KT <= warp_pos) { // else every key of the tile is after this warp's rows
                // S = q K^T: 16 rows x 64 positions as 8 n8 tiles, q hi and lo each an MMA
                float s[8][4];
#pragma unroll
                for (int j = 0; j < 8; j++) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
                for (int ks = 0; ks < HD / 16; ks++) {
                    uint32_t ah[4], al[4];
                    const int qr = warp * 16 + (lane & 7) + ((mi & 1) << 3), qc = 2 * ks + (mi >> 1);
                    ldmatrix_x4(ah, qhi + swz<HD>(qr, qc));
                    ldmatrix_x4(al, qlo + swz<HD>(qr, qc));
#pragma unroll
                    for (int pg = 0; pg < KT / 16; pg++) {
                        uint32_t b[4];
                        ldmatrix_x4(b, ks_ + swz<HD>(16 * pg + (lane & 7) + ((mi >> 1) << 3), 2 * ks + (mi & 1)));
                        mma_bf16(s[2 * pg], ah, b[0], b[1]);
                        mma_bf16(s[2 * pg], al, b[0], b[1]);
                        mma_bf16(s[2 * pg + 1], ah, b[2], b[3]);
                        mma_bf16(s[2 * pg + 1], al, b[2], b[3]);
                    }
                }
                // causal mask and online softmax; element e of n-tile j: row gid + 8 (e >> 1), position
                // kt * KT + 8 j + 2 tig + (e & 1)
                float mx[2] = {-CUDART_INF_F, -CUDART_INF_F};
#pragma unroll
                for (int j = 0; j < 8; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int p = kt * KT + 8 * j + 2 * tig + (e & 1);
                        if (p > row_pos[e >> 1]) s[j][e] = -CUDART_INF_F;
                        mx[e >> 1] = fmaxf(mx[e >> 1], s[j][e]);
                    }
                float corr[2], base[2];
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
                    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
                    const float m_new = fmaxf(m[h], mx[h]);
                    base[h] = m_new == -CUDART_INF_F ? 0.f : m_new; // a row with no key yet stays at zero
                    corr[h] = __expf(m[h] - base[h]);
                    m[h] = m_new;
                    l[h] *= corr[h];
                }
#pragma unroll
                for (int d = 0; d < HD / 8; d++) {
                    o[d][0] *= corr[0];
                    o[d][1] *= corr[0];
                    o[d][2] *= corr[1];
                    o[d][3] *= corr[1];
                }
#pragma unroll
                for (int j = 0; j < 8; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        s[j][e] = __expf(s[j][e] - base[e >> 1]);
                        l[e >> 1] += s[j][e];
                    }
                // O += P V per 16 positions: P's accumulator layout is the A fragment (n-tiles 2 pg and 2 pg + 1)
#pragma unroll
                for (int pg = 0; pg < KT / 16; pg++) {
                    uint32_t ph[4], pl[4];
                    split_pair(s[2 * pg][0], s[2 * pg][1], ph[0], pl[0]);
                    split_pair(s[2 * pg][2], s[2 * pg][3], ph[1], pl[1]);
                    split_pair(s[2 * pg + 1][0], s[2 * pg + 1][1], ph[2], pl[2]);
                    split_pair(s[2 * pg + 1][2], s[2 * pg + 1][3], ph[3], pl[3]);
#pragma unroll
                    for (int dp = 0; dp < HD / 16; dp++) {
                        uint32_t b[4];
                        ldmatrix_x4_trans(b, vs_ + swz<HD>(16 * pg + (lane & 7) + ((mi & 1) << 3), 2 * dp + (mi >> 1)));
                        mma_bf16(o[2 * dp], ph, b[0], b[1]);
                        mma_bf16(o[2 * dp], pl, b[0], b[1]);
                        mma_bf16(o[2 * dp + 1], ph, b[2], b[3]);
                        mma_bf16(o[2 * dp + 1], pl, b[2], b[3]);
                    }
                }
            }
            __syncthreads(); // every warp is done with stage kt & 1 before it is refilled
        }
        cp_async_wait<0>();
#pragma unroll
        for (int h = 0; h < 2; h++) {
            l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
            l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
        }
#pragma unroll
        for (int h = 0; h < 2; h++) {
            if (row_pos[h] < 0) continue;
            const int r = warp * 16 + gid + 8 * h, t = first + r / g;
            float* dst = out + ((size_t)t * num_heads + kvh * g + r % g) * HD + 2 * tig;
            const float inv = 1.f / l[h];
#pragma unroll
            for (int d = 0; d < HD / 8; d++)
                *reinterpret_cast<float2*>(dst + 8 * d) = make_float2(o[d][2 * h] * inv, o[d][2 * h + 1] * inv);
        }
        seg = seg_end;
        __syncthreads(); // q and the K/V ring are reused by the next pass
    }
}
} // namespace ap

// attention_prefill<HD>: 128 threads; dynamic shared memory 2 * 64 * HD * 2 (q hi, lo) + 2 * 2 * 64 * HD * 2 (K/V
// ring) = 768 * HD bytes (ForwardPass.attention)
#define ATTENTION_PREFILL(HD)                                                                                        \
    extern "C" __global__ void __launch_bounds__(128)                                                                \
    attention_prefill##HD(const float* qkv, float* out, const int* positions, const int* seq_of_token,              \
                          const int* tables, int table_width, const __nv_bfloat16* k_cache,                         \
                          const __nv_bfloat16* v_cache, int block_size, int num_heads, int num_kv_heads, float scale, \
                          int n) { pdl_enter();                                                                     \
        ap::attention_prefill<HD>(qkv, out, positions, seq_of_token, tables, table_width, k_cache, v_cache, block_size, \
                              num_heads, num_kv_heads, scale, n);                                                   \
    }
ATTENTION_PREFILL(32)
ATTENTION_PREFILL(64)
ATTENTION_PREFILL(128)
