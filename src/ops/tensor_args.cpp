#include "ops/tensor_args.h"

namespace lntune::ops {

kernels::DType kernel_dtype(const torch::Tensor& t, const char* op, const char* what) {
  switch (t.scalar_type()) {
    case torch::kFloat: return kernels::DType::f32;
    case torch::kHalf: return kernels::DType::f16;
    case torch::kBFloat16: return kernels::DType::bf16;
    default: TORCH_CHECK(false, op, ": ", what, " has dtype ", t.scalar_type(), " (float32, float16 or bfloat16)");
  }
}

RowView row_view(const torch::Tensor& x, int64_t cols, const char* op) {
  TORCH_CHECK(x.dim() >= 1, op, ": input must have at least one dimension");
  TORCH_CHECK(cols > 0, op, ": hidden size must be positive, got ", cols);
  TORCH_CHECK(x.size(-1) == cols, op, ": input's last dimension ", x.size(-1), " != hidden size ", cols);
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), op, ": input on ", x.device(), " (cpu or cuda)");
  return {x.numel() / cols, cols};
}

void check_param(const torch::Tensor& p, const torch::Tensor& x, int64_t numel, const char* op, const char* what) {
  TORCH_CHECK(p.defined() && p.numel() == numel, op, ": ", what, " must have ", numel, " elements, got ",
              p.defined() ? p.numel() : 0);
  TORCH_CHECK(p.device() == x.device(), op, ": ", what, " on ", p.device(), " but input on ", x.device());
}

torch::Tensor kernel_param(const torch::Tensor& p, const torch::Tensor& x) {
  auto t = p.scalar_type();
  bool ok = t == torch::kFloat || (x.is_cuda() ? t == x.scalar_type() : t == torch::kBFloat16);
  return (ok ? p : p.to(torch::kFloat)).contiguous();
}

bool cpu_needs_upcast(const torch::Tensor& x) { return x.is_cpu() && x.scalar_type() == torch::kHalf; }

int cpu_threads() { return std::max(1, at::get_num_threads()); }

torch::Tensor grad_buffer(bool want, int64_t n, const torch::Tensor& kp) {
  if (!want) return {};
  return torch::empty({n}, kp.options().dtype(kp.is_cuda() ? kp.scalar_type() : torch::kFloat));
}

torch::Tensor param_grad(const torch::Tensor& g, const torch::Tensor& param) {
  return g.defined() ? g.to(param.scalar_type()).view(param.sizes()) : g;
}

}  // namespace lntune::ops
