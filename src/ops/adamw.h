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

}  // namespace lntune::ops
