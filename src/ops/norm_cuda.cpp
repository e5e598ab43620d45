// CUDA launches for the norm bindings (see norm_cuda.h): the current stream, a workspace tensor,
// and the kernel's error turned into a c10::Error naming the op.
#include "ops/norm_cuda.h"

#include <ATen/cuda/CUDAContext.h>

#include "dyt/dyt.h"
#include "layernorm/layernorm.h"
#include "ops/tensor_args.h"

namespace lntune::ops {
namespace {
void* ptr(const torch::Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }
float* fptr(const torch::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }
// A parameter gradient the kernel writes as gamma's type (it sees only a void pointer).
void* grad_ptr(const torch::Tensor& t, const torch::Tensor& gamma, const char* op) {
  TORCH_CHECK(!t.defined() || t.scalar_type() == gamma.scalar_type(), op, ": a parameter gradient of dtype ",
              t.scalar_type(), " for parameters of dtype ", gamma.scalar_type());
  return ptr(t);
}
void check(cudaError_t err, const char* op) { TORCH_CHECK(err == cudaSuccess, op, ": ", cudaGetErrorString(err)); }
torch::Tensor workspace(size_t bytes, const torch::Tensor& like) {
  return torch::empty({static_cast<int64_t>(bytes)}, like.options().dtype(torch::kUInt8));
}
}  // namespace

void layernorm_forward_cuda(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                            const torch::Tensor& y, const torch::Tensor& mean, const torch::Tensor& rstd, double eps,
                            int version) {
  int64_t cols = x.size(-1), rows = x.numel() / cols;
  check(kernels::cuda::layernorm_forward(kernel_dtype(x, "layernorm", "x"), kernel_dtype(gamma, "layernorm", "gamma"),
                                         x.data_ptr(), gamma.data_ptr(), beta.data_ptr(), y.data_ptr(), fptr(mean),
                                         fptr(rstd), rows, cols, static_cast<float>(eps),
                                         at::cuda::getCurrentCUDAStream(), version),
        "layernorm forward");
}

void layernorm_backward_cuda(const torch::Tensor& dy, const torch::Tensor& x, const torch::Tensor& mean,
                             const torch::Tensor& rstd, const torch::Tensor& gamma, const torch::Tensor& dx,
                             const torch::Tensor& dgamma, const torch::Tensor& dbeta, int version) {
  int64_t cols = x.size(-1), rows = x.numel() / cols;
  auto ws = workspace(kernels::cuda::layernorm_backward_workspace(rows, cols), x);
  check(kernels::cuda::layernorm_backward(kernel_dtype(x, "layernorm", "x"), kernel_dtype(gamma, "layernorm", "gamma"),
                                          dy.data_ptr(), x.data_ptr(), fptr(mean), fptr(rstd), gamma.data_ptr(),
                                          ptr(dx), grad_ptr(dgamma, gamma, "layernorm backward"),
                                          grad_ptr(dbeta, gamma, "layernorm backward"), ws.data_ptr(), rows, cols,
                                          at::cuda::getCurrentCUDAStream(), version),
        "layernorm backward");
}

void dyt_forward_cuda(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& gamma,
                      const torch::Tensor& beta, const torch::Tensor& y, int version) {
  int64_t cols = x.size(-1), rows = x.numel() / cols;
  check(kernels::cuda::dyt_forward(kernel_dtype(x, "dyt", "x"), kernel_dtype(gamma, "dyt", "gamma"), x.data_ptr(),
                                   alpha.data_ptr(), gamma.data_ptr(), beta.data_ptr(), y.data_ptr(), rows, cols,
                                   at::cuda::getCurrentCUDAStream(), version),
        "dyt forward");
}

void dyt_backward_cuda(const torch::Tensor& dy, const torch::Tensor& x, const torch::Tensor& alpha,
                       const torch::Tensor& gamma, const torch::Tensor& dx, const torch::Tensor& dalpha,
                       const torch::Tensor& dgamma, const torch::Tensor& dbeta, int version) {
  int64_t cols = x.size(-1), rows = x.numel() / cols;
  auto ws = workspace(kernels::cuda::dyt_backward_workspace(rows, cols), x);
  check(kernels::cuda::dyt_backward(kernel_dtype(x, "dyt", "x"), kernel_dtype(gamma, "dyt", "gamma"), dy.data_ptr(),
                                    x.data_ptr(), alpha.data_ptr(), gamma.data_ptr(), ptr(dx),
                                    grad_ptr(dalpha, gamma, "dyt backward"), grad_ptr(dgamma, gamma, "dyt backward"),
                                    grad_ptr(dbeta, gamma, "dyt backward"), ws.data_ptr(), rows, cols,
                                    at::cuda::getCurrentCUDAStream(), version),
        "dyt backward");
}

}  // namespace lntune::ops
