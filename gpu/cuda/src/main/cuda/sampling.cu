#include "pdl.cuh"
// Greedy sampling on the GPU: one block per row returns the index of the largest logit (lowest index on ties).
extern "C" __global__ void argmax_rows(const float* __restrict__ logits, int vocab, int* __restrict__ out) {
    pdl_enter();
    const float* row = logits + (size_t)blockIdx.x * vocab;
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
        float v = row[i];
        if (v > best || (v == best && i < idx)) { best = v; idx = i; }
    }
    __shared__ float sv[1024];
    __shared__ int si[1024];
    sv[threadIdx.x] = best;
    si[threadIdx.x] = idx;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            float v = sv[threadIdx.x + s];
            int j = si[threadIdx.x + s];
            if (v > sv[threadIdx.x] || (v == sv[threadIdx.x] && j < si[threadIdx.x])) { sv[threadIdx.x] = v; si[threadIdx.x] = j; }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] = si[0];
}

// The same argmax with each row split over gridDim.y blocks (argmax_rows' one block per row took ~60 us for one
// 152k-vocabulary row: a serial chain of ~150 loads per thread): every block writes its best (value, index) to
// part_v / part_i [row][block], then argmax_final (one warp per row) picks the row's best, lowest index on ties.
__device__ __forceinline__ void better(float& best, int& idx, float v, int i) {
    if (v > best || (v == best && i < idx)) { best = v; idx = i; }
}

__device__ __forceinline__ void warp_best(float& best, int& idx) {
    for (int o = 16; o > 0; o >>= 1) {
        float v = __shfl_xor_sync(0xffffffffu, best, o);
        int i = __shfl_xor_sync(0xffffffffu, idx, o);
        better(best, idx, v, i);
    }
}

// grid (rows, parts), block 256
extern "C" __global__ void argmax_part(const float* __restrict__ logits, int vocab, float* __restrict__ part_v,
                                       int* __restrict__ part_i) {
    pdl_enter();
    const float* row = logits + (size_t)blockIdx.x * vocab;
    int chunk = (vocab + gridDim.y - 1) / gridDim.y;
    int beg = blockIdx.y * chunk, end = min(vocab, beg + chunk);
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (int i = beg + threadIdx.x; i < end; i += blockDim.x) better(best, idx, row[i], i);
    warp_best(best, idx);
    __shared__ float sv[32];
    __shared__ int si[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sv[warp] = best; si[warp] = idx; }
    __syncthreads();
    if (warp == 0) {
        best = lane < (blockDim.x >> 5) ? sv[lane] : -INFINITY;
        idx = lane < (blockDim.x >> 5) ? si[lane] : 0x7fffffff;
        warp_best(best, idx);
        if (lane == 0) {
            part_v[blockIdx.x * gridDim.y + blockIdx.y] = best;
            part_i[blockIdx.x * gridDim.y + blockIdx.y] = idx;
        }
    }
}

// grid rows, block 32
extern "C" __global__ void argmax_final(const float* __restrict__ part_v, const int* __restrict__ part_i, int parts,
                                        int* __restrict__ out) {
    pdl_enter();
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (int p = threadIdx.x; p < parts; p += 32)
        better(best, idx, part_v[blockIdx.x * parts + p], part_i[blockIdx.x * parts + p]);
    warp_best(best, idx);
    if (threadIdx.x == 0) out[blockIdx.x] = idx;
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling on the device for every parameter the API takes, one pass of sample_prepare (many blocks per row) and one
// block per row of sample_draw. Rows are described by SamplingInputs.java's packed header (FIELDS ints per row, then
// logit-bias entries and token masks at absolute offsets into the same buffer), so a captured graph replays any mix
// of greedy, sampled, penalized and masked rows: only the buffer's contents change between steps.
// Order, as the host Sampler: mask -> suppressed tokens / logit bias -> penalties -> (logprobs here) -> temperature,
// top-k, min-p, top-p -> inverse CDF in vocabulary order at a Philox uniform of (seed, step).
// Masses are fixed point (exp((l - max) / T) * 2^40 as integers), so every sum is exact and a draw is a function of
// the logits, the parameters and (seed, step) alone: no float atomics, no dependence on the batch.

#define F_FLAGS 0
#define F_TEMP 1
#define F_TOPP 2
#define F_TOPK 3
#define F_MINP 4
#define F_PRES 5
#define F_FREQ 6
#define F_REP 7
#define F_SEED_LO 8
#define F_SEED_HI 9
#define F_STEP 10
#define F_SLOT 11
#define F_NLP 12
#define F_BIAS_OFF 13
#define F_BIAS_N 14
#define F_MASK_OFF 15
#define FIELDS 16
#define FL_GREEDY 1
#define FL_SKIP 2
#define FL_PLAIN 4
#define PART 4          // floats per (row, part): max, argmax (int bits), sum exp(l - max), min finite
#define LP_STRIDE 41    // floats per row of logprobs: chosen, 20 top ids (int bits), 20 top logprobs
#define PROMPT_FLAG (1 << 30)
#define NB 2048         // bins per level of the threshold search
#define FIXED 1099511627776.0f // 2^40

typedef unsigned long long u64;

__device__ __forceinline__ u64 fixed_weight(float v, float m, float inv_t) {
    return (u64)(expf((v - m) * inv_t) * FIXED);
}

// Philox4x32-10 at counter (step, 0, 0, 0), key seed: the top two words (Philox.java returns the same bits).
__device__ u64 philox_bits(unsigned k0, unsigned k1, unsigned step) {
    unsigned c0 = step, c1 = 0, c2 = 0, c3 = 0;
    for (int r = 0; r < 10; r++) {
        unsigned hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        unsigned hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        unsigned n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return ((u64)c0 << 32) | c1;
}

// grid (rows, parts), block 256: masks, bias and penalties applied in place, then the part's max (lowest index on
// ties), sum of exp(l - max) and smallest finite logit.
extern "C" __global__ void sample_prepare(float* __restrict__ logits, int vocab, const int* __restrict__ params,
                                          const int* __restrict__ counts, float* __restrict__ part) {
    pdl_enter();
    const int* h = params + blockIdx.x * FIELDS;
    int flags = h[F_FLAGS];
    float* pm = part + ((size_t)blockIdx.x * gridDim.y + blockIdx.y) * PART;
    if (flags & FL_SKIP) {
        if (threadIdx.x == 0) { pm[0] = 0.f; pm[1] = __int_as_float(0); pm[2] = 1.f; pm[3] = 0.f; }
        return;
    }
    float* l = logits + (size_t)blockIdx.x * vocab;
    int chunk = (vocab + gridDim.y - 1) / gridDim.y;
    int beg = blockIdx.y * chunk, end = min(vocab, beg + chunk);
    int tid = threadIdx.x;
    if (!(flags & FL_PLAIN)) {
        int mask_off = h[F_MASK_OFF], slot = h[F_SLOT];
        const int* mask = mask_off >= 0 ? params + mask_off : nullptr;
        if (mask) {
            for (int i = beg + tid; i < end; i += blockDim.x)
                if (!((mask[i >> 5] >> (i & 31)) & 1)) l[i] = -INFINITY;
            __syncthreads();
        }
        int bo = h[F_BIAS_OFF], bn = h[F_BIAS_N];
        for (int j = tid; j < bn; j += blockDim.x) {
            int t = params[bo + j];
            if (t >= beg && t < end) atomicAdd(&l[t], __int_as_float(params[bo + bn + j]));
        }
        __syncthreads();
        if (slot >= 0) {
            const int* cnt = counts + (size_t)slot * vocab;
            float rep = __int_as_float(h[F_REP]), pres = __int_as_float(h[F_PRES]), freq = __int_as_float(h[F_FREQ]);
            for (int i = beg + tid; i < end; i += blockDim.x) {
                int c = cnt[i];
                if (c == 0) continue;
                int out = c & (PROMPT_FLAG - 1);
                float v = l[i];
                if (rep != 1.f) v = v > 0.f ? v / rep : v * rep;
                if (out > 0) v -= freq * (float)out + pres;
                l[i] = v;
            }
            __syncthreads();
        }
    }
    float best = -INFINITY, lo = INFINITY;
    int idx = 0x7fffffff;
    for (int i = beg + tid; i < end; i += blockDim.x) {
        float v = l[i];
        better(best, idx, v, i);
        if (v > -INFINITY) lo = fminf(lo, v);
    }
    __shared__ float sv[8], sl[8], ss[8];
    __shared__ int si[8];
    warp_best(best, idx);
    for (int o = 16; o > 0; o >>= 1) lo = fminf(lo, __shfl_xor_sync(0xffffffffu, lo, o));
    int lane = tid & 31, warp = tid >> 5;
    if (lane == 0) { sv[warp] = best; si[warp] = idx; sl[warp] = lo; }
    __syncthreads();
    best = sv[0]; idx = si[0]; lo = sl[0];
    for (int w = 1; w < (int)(blockDim.x >> 5); w++) { better(best, idx, sv[w], si[w]); lo = fminf(lo, sl[w]); }
    float s = 0.f;
    if (best > -INFINITY) for (int i = beg + tid; i < end; i += blockDim.x) s += expf(l[i] - best);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    __syncthreads();
    if (lane == 0) ss[warp] = s;
    __syncthreads();
    if (tid == 0) {
        float t = 0.f;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) t += ss[w];
        pm[0] = best; pm[1] = __int_as_float(idx); pm[2] = t; pm[3] = lo;
    }
}

struct SelectShared {
    u64 hist[NB];
    unsigned cnt[NB];
    unsigned binmin[NB]; // smallest ordered key per bin
    u64 warp_sum[32];
    int pick_bin;
    u64 pick_above;
};

__device__ __forceinline__ unsigned ordered_key(float v) {
    unsigned u = __float_as_uint(v);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ float key_value(unsigned k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

__device__ __forceinline__ int bin_of(float v, float lo, float scale) {
    return min(NB - 1, max(0, (int)((v - lo) * scale)));
}

// The value t for which {l >= t} (among l >= floor_v, finite) is the smallest top set whose weight reaches need:
// weight 1 per token (mass false: top-k) or its fixed-point probability (mass true: top-p). Up to three passes, each
// a histogram of NB linear bins over the range left by the pass before; ties at t are all kept.
__device__ float select_threshold(const float* __restrict__ l, int vocab, float floor_v, float lo, float hi,
                                  bool mass, float m, float inv_t, u64 need, SelectShared& sh) {
    int tid = threadIdx.x;
    if (!(hi > lo)) return hi;
    float los[3], scales[3];
    int chosen[3];
    u64 above = 0;
    los[0] = lo;
    scales[0] = NB / (hi - lo);
    float t = lo;
    for (int level = 0; level < 3; level++) {
        for (int b = tid; b < NB; b += blockDim.x) { sh.hist[b] = 0; sh.cnt[b] = 0; sh.binmin[b] = 0xffffffffu; }
        __syncthreads();
        // level 0 sees every token: only its weight histogram (one shared atomic each); counts and minima from
        // level 1 on, where only the chosen bin's few tokens are left
        for (int i = tid; i < vocab; i += blockDim.x) {
            float v = l[i];
            if (!(v >= floor_v) || v == -INFINITY || v < lo) continue;
            bool in = true;
            for (int j = 0; j < level && in; j++) in = bin_of(v, los[j], scales[j]) == chosen[j];
            if (!in) continue;
            int b = bin_of(v, los[level], scales[level]);
            u64 w = mass ? fixed_weight(v, m, inv_t) : (u64)1;
            if (level == 0) {
                if (w) atomicAdd(&sh.hist[b], w);
            } else {
                atomicAdd(&sh.hist[b], w);
                atomicAdd(&sh.cnt[b], 1u);
                atomicMin(&sh.binmin[b], ordered_key(v));
            }
        }
        __syncthreads();
        if (tid < 32) {
            // lane L takes bins [NB - 64 (L + 1), NB - 64 L), from the top
            u64 need_here = need > above ? need - above : 0;
            int top = NB - 1 - 64 * tid;
            u64 s = 0;
            for (int b = top; b > top - 64; b--) s += sh.hist[b];
            u64 incl = s;
            for (int o = 1; o < 32; o <<= 1) {
                u64 x = __shfl_up_sync(0xffffffffu, incl, o);
                if (tid >= o) incl += x;
            }
            unsigned ok = __ballot_sync(0xffffffffu, incl >= need_here);
            if (ok == 0) {
                if (tid == 0) { sh.pick_bin = -1; sh.pick_above = 0; }
            } else if (tid == __ffs(ok) - 1) {
                u64 acc = incl - s;
                int pick = top - 63;
                for (int b = top; b > top - 64; b--) {
                    bool nonempty = level == 0 ? sh.hist[b] > 0 : sh.cnt[b] > 0;
                    if (acc + sh.hist[b] >= need_here && nonempty) { pick = b; break; }
                    acc += sh.hist[b];
                }
                sh.pick_bin = pick;
                sh.pick_above = acc;
            }
        }
        __syncthreads();
        int pick = sh.pick_bin;
        if (pick < 0) return t; // weights fell short of need (rounding): keep everything left
        above += sh.pick_above;
        chosen[level] = pick;
        if (level > 0) t = key_value(sh.binmin[pick]);
        bool last = level == 2 || (level > 0 && sh.cnt[pick] <= 1);
        __syncthreads();
        if (last) break;
        los[level + 1] = los[level] + pick / scales[level];
        scales[level + 1] = scales[level] * NB;
    }
    return t;
}

// Exclusive prefix sum over the block (1024 threads) of a u64 per thread; returns it, and the total in *total.
__device__ u64 block_exclusive_scan(u64 v, SelectShared& sh, u64* total) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    u64 incl = v;
    for (int o = 1; o < 32; o <<= 1) {
        u64 x = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += x;
    }
    if (lane == 31) sh.warp_sum[warp] = incl;
    __syncthreads();
    if (warp == 0) {
        u64 w = lane < (int)(blockDim.x >> 5) ? sh.warp_sum[lane] : 0;
        u64 wi = w;
        for (int o = 1; o < 32; o <<= 1) {
            u64 x = __shfl_up_sync(0xffffffffu, wi, o);
            if (lane >= o) wi += x;
        }
        sh.warp_sum[lane] = wi - w; // exclusive
        if (lane == 31) sh.pick_above = wi;
    }
    __syncthreads();
    u64 r = sh.warp_sum[warp] + incl - v;
    *total = sh.pick_above;
    __syncthreads();
    return r;
}

// grid rows, block 1024: the row's token (and logprobs) from the prepared logits and sample_prepare's partials.
extern "C" __global__ void __launch_bounds__(1024) sample_draw(const float* __restrict__ logits, int vocab,
        const int* __restrict__ params, int* __restrict__ counts, const float* __restrict__ part, int parts,
        int* __restrict__ out, float* __restrict__ lp_out) {
    pdl_enter();
    __shared__ SelectShared sh;
    __shared__ float row_max, row_lo, row_lse;
    __shared__ int row_arg, picked, ncand;
    __shared__ int cand[64];
    const int* h = params + blockIdx.x * FIELDS;
    int flags = h[F_FLAGS];
    int tid = threadIdx.x;
    if (flags & FL_SKIP) {
        if (tid == 0) out[blockIdx.x] = 0;
        return;
    }
    const float* l = logits + (size_t)blockIdx.x * vocab;
    if (tid == 0) {
        const float* pm = part + (size_t)blockIdx.x * parts * PART;
        float m = -INFINITY, lo = INFINITY;
        int idx = 0x7fffffff;
        for (int p = 0; p < parts; p++) { better(m, idx, pm[p * PART], __float_as_int(pm[p * PART + 1])); lo = fminf(lo, pm[p * PART + 3]); }
        float s = 0.f;
        if (m > -INFINITY) for (int p = 0; p < parts; p++) if (pm[p * PART] > -INFINITY) s += pm[p * PART + 2] * expf(pm[p * PART] - m);
        row_max = m; row_arg = idx == 0x7fffffff ? 0 : idx; row_lo = lo; row_lse = m + logf(s);
        picked = row_arg;
    }
    __syncthreads();
    float m = row_max;
    if (!(flags & FL_GREEDY) && m > -INFINITY) {
        float temp = __int_as_float(h[F_TEMP]), top_p = __int_as_float(h[F_TOPP]), min_p = __int_as_float(h[F_MINP]);
        int top_k = h[F_TOPK];
        float inv_t = 1.f / temp;
        float floor_v = -INFINITY;
        if (top_k > 0 && top_k < vocab)
            floor_v = select_threshold(l, vocab, floor_v, row_lo, m, false, m, inv_t, (u64)top_k, sh);
        if (min_p > 0.f) floor_v = fmaxf(floor_v, m + temp * logf(min_p));
        // a weight under 2^-40 of the best token's is 0 in fixed point: nothing below this can be drawn
        float zero_below = m - 28.f * temp;
        if (top_p < 1.f) {
            u64 kept = 0;
            for (int i = tid; i < vocab; i += blockDim.x) {
                float v = l[i];
                if (v >= floor_v && v > -INFINITY) kept += fixed_weight(v, m, inv_t);
            }
            u64 total;
            block_exclusive_scan(kept, sh, &total);
            u64 need = (u64)ceil((double)top_p * (double)total);
            if (need < 1) need = 1;
            float lo = fmaxf(row_lo, fmaxf(floor_v, zero_below));
            floor_v = fmaxf(floor_v, select_threshold(l, vocab, floor_v, lo, m, true, m, inv_t, need, sh));
        }
        // inverse CDF in vocabulary order: each warp owns a contiguous range, read coalesced; the warp whose range
        // holds the target walks it 32 tokens at a time
        int lane = tid & 31, warp = tid >> 5, warps = blockDim.x >> 5;
        int per = (vocab + warps - 1) / warps;
        int b = warp * per, e = min(vocab, b + per);
        u64 s = 0;
        for (int i = b + lane; i < e; i += 32) {
            float v = l[i];
            if (v >= floor_v && v > -INFINITY) s += fixed_weight(v, m, inv_t);
        }
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        u64 total;
        u64 pre = block_exclusive_scan(lane == 0 ? s : 0, sh, &total);
        pre = __shfl_sync(0xffffffffu, pre, 0);
        u64 bits = philox_bits((unsigned)h[F_SEED_LO], (unsigned)h[F_SEED_HI], (unsigned)h[F_STEP]);
        u64 target = __umul64hi(bits, total);
        if (s > 0 && pre <= target && target < pre + s) {
            u64 acc = pre;
            for (int base = b; base < e; base += 32) {
                int i = base + lane;
                float v = i < e ? l[i] : -INFINITY;
                u64 w = v >= floor_v && v > -INFINITY ? fixed_weight(v, m, inv_t) : 0;
                u64 incl = w;
                for (int o = 1; o < 32; o <<= 1) {
                    u64 x = __shfl_up_sync(0xffffffffu, incl, o);
                    if (lane >= o) incl += x;
                }
                unsigned hit = __ballot_sync(0xffffffffu, w > 0 && acc + incl > target);
                if (hit) {
                    if (lane == __ffs(hit) - 1) picked = i;
                    break;
                }
                acc += __shfl_sync(0xffffffffu, incl, 31);
            }
        }
        __syncthreads();
    }
    int chosen = picked;
    int nlp = h[F_NLP];
    if (nlp >= 0) {
        float* lp = lp_out + (size_t)blockIdx.x * LP_STRIDE;
        if (tid == 0) { lp[0] = l[chosen] - row_lse; ncand = 0; }
        if (nlp > 0 && m > -INFINITY) {
            float t = select_threshold(l, vocab, -INFINITY, row_lo, m, false, m, 1.f, (u64)min(nlp, vocab), sh);
            __syncthreads();
            for (int i = tid; i < vocab; i += blockDim.x) {
                if (l[i] >= t && l[i] > -INFINITY) {
                    int c = atomicAdd(&ncand, 1);
                    if (c < 64) cand[c] = i;
                }
            }
            __syncthreads();
            if (tid == 0) {
                int n = min(ncand, 64);
                for (int a = 1; a < n; a++) { // largest first, lower id first on ties
                    int x = cand[a], j = a - 1;
                    while (j >= 0 && (l[cand[j]] < l[x] || (l[cand[j]] == l[x] && cand[j] > x))) { cand[j + 1] = cand[j]; j--; }
                    cand[j + 1] = x;
                }
                for (int a = 0; a < 20; a++) {
                    bool have = a < min(n, nlp);
                    lp[1 + a] = __int_as_float(have ? cand[a] : -1);
                    lp[21 + a] = have ? l[cand[a]] - row_lse : -INFINITY;
                }
            }
        }
    }
    if (tid == 0) {
        out[blockIdx.x] = chosen;
        int slot = h[F_SLOT];
        if (slot >= 0) counts[(size_t)slot * vocab + chosen] += 1;
    }
}

// Fills a penalty slot from a sequence's tokens (the slot was zeroed first): prompt tokens set PROMPT_FLAG, output
// tokens count. grid-stride over the tokens.
extern "C" __global__ void penalty_init(int* __restrict__ counts, int vocab, int slot, const int* __restrict__ tokens,
                                        int prompt_len, int num_tokens) {
    pdl_enter();
    int* c = counts + (size_t)slot * vocab;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < num_tokens; i += gridDim.x * blockDim.x) {
        int t = tokens[i];
        if (t < 0 || t >= vocab) continue;
        if (i < prompt_len) atomicOr(&c[t], PROMPT_FLAG);
        else atomicAdd(&c[t], 1);
    }
}
