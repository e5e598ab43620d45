// Binding of kernels/adamw: AdamW over flat fp32 buffers in one pass (one launch on CUDA). The
// optimizer in src/train/adamw.cpp keeps every trainable tensor as a view of one such buffer.
#pragma once
#include <torch/torch.h>

#include "adamw/adamw_math.h"

namespace lntune::ops {

// param, grad, exp_avg and exp_avg_sq: fp32, contiguous, the same number of elements, one device
// (the CPU, or CUDA in CUDA builds); anything else is a c10::Error naming the tensor.
void fused_adamw_(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                  const torch::Tensor& exp_avg_sq, const kernels::AdamWScalars& s);
// The same with the scalars read from `scalars` (float32, kernels::kAdamWScalarFloats elements
// laid out as AdamWScalars, on param's device) when the kernel runs, not when it is launched: a
// CUDA graph replaying this launch then uses whatever the host wrote there before the replay.
void fused_adamw_(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                  const torch::Tensor& exp_avg_sq, const torch::Tensor& scalars);

}  // namespace lntune::ops
