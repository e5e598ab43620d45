// Launches of kernels/layernorm and kernels/dyt on the current CUDA stream, with the kernels'
// workspace from the caching allocator. Defined only in builds whose LibTorch has CUDA
// (LNTUNE_WITH_CUDA); the bindings in layernorm.cpp / dyt.cpp prepare every tensor.
#pragma once
#include <torch/torch.h>

namespace lntune::ops {

void layernorm_forward_cuda(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                            const torch::Tensor& y, const torch::Tensor& mean, const torch::Tensor& rstd, double eps,
                            int version);
// Undefined outputs are not computed; the parameter gradients (dgamma, dbeta, DyT's dalpha) have
// gamma's dtype. `version`: kernels/layernorm/versions.h.
void layernorm_backward_cuda(const torch::Tensor& dy, const torch::Tensor& x, const torch::Tensor& mean,
                             const torch::Tensor& rstd, const torch::Tensor& gamma, const torch::Tensor& dx,
                             const torch::Tensor& dgamma, const torch::Tensor& dbeta, int version);
// `version`: kernels/dyt/versions.h.
void dyt_forward_cuda(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& gamma,
                      const torch::Tensor& beta, const torch::Tensor& y, int version);
void dyt_backward_cuda(const torch::Tensor& dy, const torch::Tensor& x, const torch::Tensor& alpha,
                       const torch::Tensor& gamma, const torch::Tensor& dx, const torch::Tensor& dalpha,
                       const torch::Tensor& dgamma, const torch::Tensor& dbeta, int version);

}  // namespace lntune::ops
