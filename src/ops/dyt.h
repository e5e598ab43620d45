// Fused DyT (kernels/dyt), y = gamma * tanh(alpha * x) + beta, on at::Tensor: forward/backward ops
// and the autograd function Norm uses for type "dyt", impl "fused". CPU always; CUDA in CUDA builds.
#pragma once
#include <torch/torch.h>

#include <array>
#include <tuple>

namespace lntune::ops {

torch::Tensor dyt_forward(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& gamma,
                          const torch::Tensor& beta);

// (dx, dalpha, dgamma, dbeta); entries whose `want` flag is false come back undefined; parameter
// gradients in the parameters' dtypes.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> dyt_backward(const torch::Tensor& dy,
                                                                                    const torch::Tensor& x,
                                                                                    const torch::Tensor& alpha,
                                                                                    const torch::Tensor& gamma,
                                                                                    std::array<bool, 4> want);

// Differentiable: gamma * tanh(alpha * x) + beta, alpha a one-element tensor.
torch::Tensor fused_dyt(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& gamma,
                        const torch::Tensor& beta);

}  // namespace lntune::ops
