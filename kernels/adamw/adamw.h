// AdamW over flat fp32 buffers on CUDA: the whole update of every trainable tensor in one launch
// (src/train/adamw.cpp keeps them as views of one buffer), where torch's per-tensor ops launch
// ~9 kernels per tensor. Raw pointers and a stream, no ATen. Rounds as the CPU kernel does
// (adamw_math.h; compiled with --fmad=false), so the two agree bit for bit.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "adamw/adamw_math.h"

namespace lntune::kernels::cuda {

cudaError_t adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                       const AdamWScalars& s, cudaStream_t stream);
// The same update with the scalars read from device memory when the kernel runs: what a CUDA graph
// can replay step after step, the host rewriting *s_device before each replay.
cudaError_t adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
                       const AdamWScalars* s_device, cudaStream_t stream);

}  // namespace lntune::kernels::cuda
