// CUDA LayerNorm forward through kernels/layernorm (only in builds whose LibTorch has CUDA).
#pragma once
#include <torch/torch.h>

#include <tuple>

namespace lntune::ops {

// Returns (y, mean, rstd) for float32 CUDA input normalised over the last dimension.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layernorm_forward_cuda(const torch::Tensor& x,
                                                                               const torch::Tensor& gamma,
                                                                               const torch::Tensor& beta,
                                                                               double eps);

}  // namespace lntune::ops
