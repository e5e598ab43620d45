// Fused LayerNorm (kernels/layernorm) on at::Tensor: the forward/backward ops and the autograd
// function Norm uses for impl "fused". CPU always; CUDA in builds whose LibTorch has CUDA.
#pragma once
#include <torch/torch.h>

#include <array>
#include <tuple>

namespace lntune::ops {

// (y, mean, rstd) over the last dimension; y has x's dtype, mean/rstd fp32 with x's leading shape flattened.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layernorm_forward(const torch::Tensor& x,
                                                                          const torch::Tensor& gamma,
                                                                          const torch::Tensor& beta, double eps);

// (dx, dgamma, dbeta); an entry whose `want` flag is false comes back undefined. dgamma/dbeta in
// gamma's dtype.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layernorm_backward(const torch::Tensor& dy,
                                                                           const torch::Tensor& x,
                                                                           const torch::Tensor& mean,
                                                                           const torch::Tensor& rstd,
                                                                           const torch::Tensor& gamma,
                                                                           std::array<bool, 3> want);

// Differentiable: torch::layer_norm(x, {hidden}, gamma, beta, eps) computed by our kernels.
torch::Tensor fused_layer_norm(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                               double eps);

}  // namespace lntune::ops
