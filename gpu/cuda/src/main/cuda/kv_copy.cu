#include "pdl.cuh"
// Gather / scatter of whole KV blocks between the paged cache and a contiguous staging buffer (CudaKvBlockCopier's
// batched path). The staging buffer holds the listed blocks back to back in the host format of a block: for each
// layer its K run, then its V run, a run being blockSize * kvDim elements. Run r of the staging buffer is block
// ids[r / (2 * layers)], layer (r / 2) % layers, K when r is even and V when odd, so its offset is simply r * run16.
// Everything is counted in 16-byte units (a run is blockSize * kvDim * 2 or 4 bytes with kvDim a multiple of 32, and
// the cache's layer stride is a whole number of runs), one thread block per run: no layout knowledge beyond that.
// KvPackLayout.java is the same arithmetic in Java, unit-tested against the single-block copy's format.

__device__ __forceinline__ const uint4* run_in_cache(const uint4* k, const uint4* v, const int* ids, int layers,
                                                     long long layer_stride16, int run16, long long r) {
    long long block = r / (2 * layers);
    int within = (int)(r % (2 * layers));
    const uint4* base = (within & 1) ? v : k;
    return base + (long long)(within >> 1) * layer_stride16 + (long long)ids[block] * run16;
}

// grid (n * 2 * layers), block 256: staging[r] = the cache run r names
extern "C" __global__ void kv_gather(const uint4* __restrict__ k, const uint4* __restrict__ v,
                                     const int* __restrict__ ids, uint4* __restrict__ staging, int layers,
                                     long long layer_stride16, int run16) {
    pdl_enter();
    long long r = blockIdx.x;
    const uint4* src = run_in_cache(k, v, ids, layers, layer_stride16, run16, r);
    uint4* dst = staging + r * run16;
    for (int i = threadIdx.x; i < run16; i += blockDim.x) dst[i] = src[i];
}

// grid (n * 2 * layers), block 256: the cache run r names = staging[r]. A block id listed twice is written by two
// thread blocks in no set order, as two single-block writes of different bytes would leave either; the Java side
// passes each id once per round.
extern "C" __global__ void kv_scatter(uint4* __restrict__ k, uint4* __restrict__ v, const int* __restrict__ ids,
                                      const uint4* __restrict__ staging, int layers, long long layer_stride16,
                                      int run16) {
    pdl_enter();
    long long r = blockIdx.x;
    uint4* dst = const_cast<uint4*>(run_in_cache(k, v, ids, layers, layer_stride16, run16, r));
    const uint4* src = staging + r * run16;
    for (int i = threadIdx.x; i < run16; i += blockDim.x) dst[i] = src[i];
}
