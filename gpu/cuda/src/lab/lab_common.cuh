// What the kernel labs (gemm_lab.cu, attention_lab.cu) share: failing loudly on a CUDA error, and GPU time per launch.
#pragma once
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CK(call)                                                                                                     \
    do {                                                                                                             \
        cudaError_t e_ = (call);                                                                                     \
        if (e_ != cudaSuccess) {                                                                                     \
            fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));                   \
            exit(2);                                                                                                 \
        }                                                                                                            \
    } while (0)

namespace lab {
// Mean microseconds of `reps` back-to-back launches by cudaEvents, after two warm-up launches (loads, opt-ins).
template <typename F>
double time_us(F launch, int reps) {
    launch();
    launch();
    cudaEvent_t a, z;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&z));
    CK(cudaEventRecord(a));
    for (int r = 0; r < reps; r++) launch();
    CK(cudaEventRecord(z));
    CK(cudaEventSynchronize(z));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, z));
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(z));
    return 1000.0 * ms / reps;
}
} // namespace lab
