// Host emulation of the CUDA execution model, for running kernels/*.cu themselves on a machine
// without a GPU (LNTUNE_CUDA_EMULATION: the sources compiled by the host compiler, tested on the CPU
// by tests/kernels/test_cuda_emulation.cpp). CI has no GPU and the GPU machine is lent rarely, so
// a kernel's indexing, tails, reductions and launch arithmetic are checked here first; on the GPU
// machine the real kernels run through the bindings' tests (tests/ops, *Kernel.Cuda*) instead.
//
// A launch runs the grid's blocks one after another on the calling thread; a block's threads are
// fibers, each on its own stack, switched at barriers: __syncthreads() waits for every thread of the
// block that has not returned, a warp shuffle for every such thread of its warp. A barrier some
// threads never reach (a deadlock on the GPU) is reported as an error, as is a launch configuration
// CUDA rejects; an exception a thread throws ends the launch and is rethrown by it.
// __shared__ variables are function statics: one block runs at a time. Not emulated: timing,
// memory ordering between blocks, and rounding of device intrinsics beyond what the host does
// (fp32 arithmetic on x86-64 rounds as the GPU's does without fused multiply-adds).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <functional>

namespace lntune::kernels::emulation {

struct Index {
  unsigned x, y, z;
};

Index thread_idx();
Index block_idx();
Index block_dim();
Index grid_dim();
void sync_threads();
float shfl_xor(float v, int lane_mask);
// Runs body once per thread of every block (the kernel with its arguments bound): the emulated
// launch behind cuda_common.cuh's launch().
void run_grid(dim3 grid, dim3 block, const std::function<void()>& body);
// What cudaDeviceGetAttribute reports as the multiprocessor count (default 2: launchers that size
// grids by it then make blocks walk several rounds, the paths a GPU's many SMs rarely take).
void set_multiprocessors(int n);
// What cudaOccupancyMaxActiveBlocksPerMultiprocessor reports for any kernel (default 2).
void set_resident_blocks(int n);

}  // namespace lntune::kernels::emulation

#undef __shared__
#define __shared__ static
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#define threadIdx (::lntune::kernels::emulation::thread_idx())
#define blockIdx (::lntune::kernels::emulation::block_idx())
#define blockDim (::lntune::kernels::emulation::block_dim())
#define gridDim (::lntune::kernels::emulation::grid_dim())
#define __syncthreads() ::lntune::kernels::emulation::sync_threads()

inline float __shfl_xor_sync(unsigned /*mask: every lane, as the kernels use it*/, float v, int lane_mask) {
  return ::lntune::kernels::emulation::shfl_xor(v, lane_mask);
}
inline float __fmul_rn(float a, float b) { return a * b; }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }  // the device's is within 2 ulp of this
