// Programmatic dependent launch (sm_90+). A kernel launched with CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION
// (CudaDevice does so while capturing a decode graph with CudaTuning.programmaticLaunch on) may be launched before
// the kernel ahead of it in the stream has finished, so its launch and block scheduling hide behind that kernel's
// tail instead of leaving the SMs idle between the two. Every kernel therefore starts with pdl_enter():
// griddepcontrol.wait holds it until the kernel before it has completed and its writes are visible (nothing here is
// read or written before), then launch_dependents lets the next kernel be launched. Launched the ordinary way, both
// instructions do nothing; on sm_80 they are left out.
#pragma once

__device__ __forceinline__ void pdl_enter() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
