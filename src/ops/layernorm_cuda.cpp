// at::Tensor binding for kernels/layernorm (built only when LibTorch has CUDA): argument checks
// and flattening live here, the kernel takes raw pointers and the current stream.
#include <ATen/cuda/CUDAContext.h>
#include <torch/torch.h>

#include "layernorm/layernorm.h"
#include "ops/layernorm_cuda.h"

namespace lntune::ops {

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layernorm_forward_cuda(const torch::Tensor& x,
                                                                               const torch::Tensor& gamma,
                                                                               const torch::Tensor& beta,
                                                                               double eps) {
  TORCH_CHECK(x.is_cuda() && x.scalar_type() == torch::kFloat, "layernorm_forward_cuda: x must be a CUDA float32 tensor");
  auto xc = x.contiguous();
  int64_t cols = xc.size(-1), rows = xc.numel() / std::max<int64_t>(cols, 1);
  TORCH_CHECK(gamma.numel() == cols && beta.numel() == cols, "layernorm_forward_cuda: gamma/beta size ", gamma.numel(),
              " != hidden size ", cols);
  auto y = torch::empty_like(xc);
  auto mean = torch::empty({rows}, xc.options());
  auto rstd = torch::empty({rows}, xc.options());
  auto g = gamma.contiguous(), b = beta.contiguous();
  auto err = kernels::layernorm_forward_f32(xc.data_ptr<float>(), g.data_ptr<float>(), b.data_ptr<float>(),
                                            y.data_ptr<float>(), mean.data_ptr<float>(), rstd.data_ptr<float>(),
                                            static_cast<int>(rows), static_cast<int>(cols), static_cast<float>(eps),
                                            at::cuda::getCurrentCUDAStream());
  TORCH_CHECK(err == cudaSuccess, "layernorm_forward_cuda: ", cudaGetErrorString(err));
  return {y, mean, rstd};
}

}  // namespace lntune::ops
