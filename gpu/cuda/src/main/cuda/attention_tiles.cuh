// Shared by the tensor-core attention kernels (attention_mma.cu, attention_prefill.cu): the swizzled shared-memory
// layout of K, V and q rows, and P's bf16 hi + lo packing. Each .cu is its own PTX module, so this is included.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

namespace {
// 16-byte chunk c of row r in rows of HD bf16 (HD / 8 chunks): XOR-swizzled so that ldmatrix's 8 rows at one chunk
// hit different bank groups (8 of them from 64 dims up)
template <int HD>
__device__ __forceinline__ uint32_t swz(int r, int c) {
    constexpr int MASK = HD / 8 < 8 ? HD / 8 - 1 : 7;
    return (uint32_t)(r * HD * 2 + ((c ^ (r & MASK)) << 4));
}

__device__ __forceinline__ uint32_t pack_bf16(float lo_k, float hi_k) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo_k, hi_k); // .x (low 16 bits) is the lower k index
    return *reinterpret_cast<uint32_t*>(&v);
}
// (a, b) as bf16 hi pair and the remainders as lo pair: a ~= hi + lo to ~16 bits
__device__ __forceinline__ void split_pair(float a, float b, uint32_t& hi, uint32_t& lo) {
    __nv_bfloat16 ha = __float2bfloat16(a), hb = __float2bfloat16(b);
    __nv_bfloat162 h2(ha, hb);
    hi = *reinterpret_cast<uint32_t*>(&h2);
    lo = pack_bf16(a - __bfloat162float(ha), b - __bfloat162float(hb));
}
} // namespace
