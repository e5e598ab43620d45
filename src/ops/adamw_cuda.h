// The CUDA launch of kernels/adamw on the current stream. Defined only in builds whose LibTorch
// has CUDA (LNTUNE_WITH_CUDA); ops/adamw.cpp checks every tensor first.
#pragma once
#include <torch/torch.h>

#include "adamw/adamw_math.h"

namespace lntune::ops {

void adamw_step_cuda(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                     const torch::Tensor& exp_avg_sq, const kernels::AdamWScalars& s);
// s_device: the scalars in device memory, read when the kernel runs.
void adamw_step_cuda(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                     const torch::Tensor& exp_avg_sq, const kernels::AdamWScalars* s_device);

}  // namespace lntune::ops
