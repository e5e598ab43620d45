#include "ops/adamw_cuda.h"

#include <ATen/cuda/CUDAContext.h>

#include "adamw/adamw.h"

namespace lntune::ops {

namespace {
// s: the scalars by value, or a pointer to them in device memory.
template <class Scalars>
void launch(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
            const torch::Tensor& exp_avg_sq, Scalars s) {
  cudaError_t err = kernels::cuda::adamw_step(param.data_ptr<float>(), grad.data_ptr<float>(), exp_avg.data_ptr<float>(),
                                              exp_avg_sq.data_ptr<float>(), param.numel(), s,
                                              at::cuda::getCurrentCUDAStream());
  TORCH_CHECK(err == cudaSuccess, "fused adamw: ", cudaGetErrorString(err));
}
}  // namespace

void adamw_step_cuda(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                     const torch::Tensor& exp_avg_sq, const kernels::AdamWScalars& s) {
  launch<const kernels::AdamWScalars&>(param, grad, exp_avg, exp_avg_sq, s);
}

void adamw_step_cuda(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                     const torch::Tensor& exp_avg_sq, const kernels::AdamWScalars* s_device) {
  launch(param, grad, exp_avg, exp_avg_sq, s_device);
}

}  // namespace lntune::ops
