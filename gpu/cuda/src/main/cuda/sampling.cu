// Greedy sampling on the GPU: one block per row returns the index of the largest logit (lowest index on ties).
extern "C" __global__ void argmax_rows(const float* __restrict__ logits, int vocab, int* __restrict__ out) {
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
    float best = -INFINITY;
    int idx = 0x7fffffff;
    for (int p = threadIdx.x; p < parts; p += 32)
        better(best, idx, part_v[blockIdx.x * parts + p], part_i[blockIdx.x * parts + p]);
    warp_best(best, idx);
    if (threadIdx.x == 0) out[blockIdx.x] = idx;
}

// Block-wide reductions for sample_rows (blockDim.x == 1024).
__device__ float block_max(float v, float* sh) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    __syncthreads();
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
    __syncthreads();
    float r = sh[0];
    for (int i = 1; i < 32; i++) r = fmaxf(r, sh[i]);
    return r;
}

__device__ float block_sum(float v, float* sh) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    __syncthreads();
    if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
    __syncthreads();
    float r = 0.f;
    for (int i = 0; i < 32; i++) r += sh[i];
    return r;
}

// Temperature, top-k and top-p sampling of each logits row on the GPU, one block of 1024 threads per row, so only the
// token id crosses to the host. Like transformers: top-k keeps every logit >= the k-th largest; top-p keeps the most
// probable tokens whose mass reaches top_p (at least one); the token is then drawn by inverse CDF over the kept
// tokens in vocabulary order with the caller's uniform u in [0, 1). temperature <= 0 means greedy.
// Thresholds are found by bisection on values (40 passes over the row), not by sorting.
extern "C" __global__ void sample_rows(const float* __restrict__ logits, int vocab, const float* __restrict__ temps,
                                       const int* __restrict__ top_ks, const float* __restrict__ top_ps,
                                       const float* __restrict__ uniforms, int* __restrict__ out) {
    __shared__ float sh[32];
    __shared__ float chunk_sum[1024];
    const float* row = logits + (size_t)blockIdx.x * vocab;
    float temp = temps[blockIdx.x];
    int tid = threadIdx.x;
    if (temp <= 0.f) {
        float best = -INFINITY;
        int idx = 0x7fffffff;
        for (int i = tid; i < vocab; i += blockDim.x) {
            float v = row[i];
            if (v > best || (v == best && i < idx)) { best = v; idx = i; }
        }
        float m = block_max(best, sh);
        __shared__ int widx;
        if (tid == 0) widx = 0x7fffffff;
        __syncthreads();
        if (best == m) atomicMin(&widx, idx);
        __syncthreads();
        if (tid == 0) out[blockIdx.x] = widx;
        return;
    }
    float mx = -INFINITY, mn = INFINITY;
    for (int i = tid; i < vocab; i += blockDim.x) { mx = fmaxf(mx, row[i]); mn = fminf(mn, row[i]); }
    mx = block_max(mx, sh);
    mn = -block_max(-mn, sh);
    // top-k: the largest threshold t with count(logit >= t) >= k
    float lo_t = mn;
    int k = top_ks[blockIdx.x];
    if (k > 0 && k < vocab) {
        float lo = mn, hi = mx;
        for (int it = 0; it < 40; it++) {
            float mid = 0.5f * (lo + hi);
            float c = 0.f;
            for (int i = tid; i < vocab; i += blockDim.x) c += row[i] >= mid ? 1.f : 0.f;
            c = block_sum(c, sh);
            if (c >= k) lo = mid; else hi = mid;
        }
        lo_t = lo;
    }
    float inv_t = 1.f / temp;
    float z = 0.f;
    for (int i = tid; i < vocab; i += blockDim.x) if (row[i] >= lo_t) z += expf((row[i] - mx) * inv_t);
    z = block_sum(z, sh);
    // top-p: the largest probability threshold q whose kept mass reaches top_p (q = 0 keeps everything)
    float q = 0.f;
    float p = top_ps[blockIdx.x];
    if (p < 1.f) {
        float lo = 0.f, hi = 1.f;
        for (int it = 0; it < 40; it++) {
            float mid = 0.5f * (lo + hi);
            float mass = 0.f;
            for (int i = tid; i < vocab; i += blockDim.x) {
                if (row[i] >= lo_t) {
                    float pr = expf((row[i] - mx) * inv_t) / z;
                    if (pr >= mid) mass += pr;
                }
            }
            mass = block_sum(mass, sh);
            if (mass >= p) lo = mid; else hi = mid;
        }
        q = lo;
    }
    // inverse CDF over the kept tokens in vocabulary order: each thread owns a contiguous chunk
    int per = (vocab + blockDim.x - 1) / blockDim.x;
    int begin = tid * per, end = min(vocab, begin + per);
    float s = 0.f;
    for (int i = begin; i < end; i++) {
        if (row[i] >= lo_t) {
            float pr = expf((row[i] - mx) * inv_t) / z;
            if (pr >= q) s += pr;
        }
    }
    chunk_sum[tid] = s;
    __syncthreads();
    if (tid == 0) {
        float total = 0.f;
        for (int i = 0; i < blockDim.x; i++) total += chunk_sum[i];
        float target = uniforms[blockIdx.x] * total;
        float acc = 0.f;
        int last = -1;
        int pick = -1;
        for (int c = 0; c < (int)blockDim.x && pick < 0; c++) {
            if (acc + chunk_sum[c] <= target && c + 1 < (int)blockDim.x) { acc += chunk_sum[c]; continue; }
            int b = c * per, e = min(vocab, b + per);
            for (int i = b; i < e; i++) {
                if (row[i] >= lo_t) {
                    float pr = expf((row[i] - mx) * inv_t) / z;
                    if (pr >= q) {
                        last = i;
                        acc += pr;
                        if (acc > target) { pick = i; break; }
                    }
                }
            }
        }
        if (pick < 0) pick = last; // rounding at the very end of the distribution
        if (pick < 0) pick = 0;
        out[blockIdx.x] = pick;
    }
}
