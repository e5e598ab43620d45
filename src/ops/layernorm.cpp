// Binding of kernels/layernorm: checks, flattening, dtype handling and device dispatch here; the
// kernels see raw pointers only (apex's split).
#include "ops/layernorm.h"

#include <ATen/record_function.h>

#include "layernorm/layernorm_cpu.h"
#include "ops/kernel_version.h"
#include "ops/tensor_args.h"
#ifdef LNTUNE_WITH_CUDA
#include "ops/norm_cuda.h"
#endif

namespace lntune::ops {

namespace {
constexpr const char* kLayerNormOp = "fused layernorm";
}  // namespace

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layernorm_forward(const torch::Tensor& x,
                                                                          const torch::Tensor& gamma,
                                                                          const torch::Tensor& beta, double eps) {
  RECORD_FUNCTION("lntune::layernorm_forward", c10::ArrayRef<const c10::IValue>{});  // one op to count_ops
  auto rv = row_view(x, gamma.defined() ? gamma.numel() : 0, kLayerNormOp);
  check_param(gamma, x, rv.cols, kLayerNormOp, "weight");
  check_param(beta, x, rv.cols, kLayerNormOp, "bias");
  if (cpu_needs_upcast(x)) {
    auto [y, mean, rstd] = layernorm_forward(x.to(torch::kFloat), gamma, beta, eps);
    return {y.to(x.scalar_type()), mean, rstd};
  }
  auto xc = x.contiguous();
  auto g = kernel_param(gamma, x), b = kernel_param(beta, x).to(g.scalar_type());
  auto y = torch::empty_like(xc);
  auto mean = torch::empty({rv.rows}, x.options().dtype(torch::kFloat));
  auto rstd = torch::empty({rv.rows}, x.options().dtype(torch::kFloat));
  if (x.is_cuda()) {
#ifdef LNTUNE_WITH_CUDA
    layernorm_forward_cuda(xc, g, b, y, mean, rstd, eps, cuda_kernel_version(CudaKernel::layernorm));
#else
    TORCH_CHECK(false, kLayerNormOp, ": this build has no CUDA kernels");
#endif
  } else {
    kernels::cpu::layernorm_forward(kernel_dtype(xc, kLayerNormOp, "input"), kernel_dtype(g, kLayerNormOp, "weight"), xc.data_ptr(),
                                    g.data_ptr(), b.data_ptr(), y.data_ptr(), mean.data_ptr<float>(),
                                    rstd.data_ptr<float>(), rv.rows, rv.cols, static_cast<float>(eps), cpu_threads());
  }
  return {y, mean, rstd};
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layernorm_backward(const torch::Tensor& dy,
                                                                           const torch::Tensor& x,
                                                                           const torch::Tensor& mean,
                                                                           const torch::Tensor& rstd,
                                                                           const torch::Tensor& gamma,
                                                                           std::array<bool, 3> want) {
  RECORD_FUNCTION("lntune::layernorm_backward", c10::ArrayRef<const c10::IValue>{});  // one op to count_ops
  auto rv = row_view(x, gamma.numel(), kLayerNormOp);
  TORCH_CHECK(dy.sizes() == x.sizes(), kLayerNormOp, ": gradient shape ", dy.sizes(), " != input shape ", x.sizes());
  TORCH_CHECK(mean.numel() == rv.rows && rstd.numel() == rv.rows, kLayerNormOp, ": saved statistics do not match the input");
  if (cpu_needs_upcast(x)) {
    auto [dx, dg, db] = layernorm_backward(dy.to(torch::kFloat), x.to(torch::kFloat), mean, rstd, gamma, want);
    return {dx.defined() ? dx.to(x.scalar_type()) : dx, dg, db};
  }
  auto xc = x.contiguous(), dyc = dy.to(x.scalar_type()).contiguous();
  auto g = kernel_param(gamma, x);
  auto dx = want[0] ? torch::empty_like(xc) : torch::Tensor();
  auto dg = grad_buffer(want[1], rv.cols, g), db = grad_buffer(want[2], rv.cols, g);
  if (x.is_cuda()) {
#ifdef LNTUNE_WITH_CUDA
    layernorm_backward_cuda(dyc, xc, mean, rstd, g, dx, dg, db, cuda_kernel_version(CudaKernel::layernorm));
#else
    TORCH_CHECK(false, kLayerNormOp, ": this build has no CUDA kernels");
#endif
  } else {
    kernels::cpu::layernorm_backward(kernel_dtype(xc, kLayerNormOp, "input"), kernel_dtype(g, kLayerNormOp, "weight"), dyc.data_ptr(),
                                     xc.data_ptr(), mean.data_ptr<float>(), rstd.data_ptr<float>(), g.data_ptr(),
                                     dx.defined() ? dx.data_ptr() : nullptr,
                                     dg.defined() ? dg.data_ptr<float>() : nullptr,
                                     db.defined() ? db.data_ptr<float>() : nullptr, rv.rows, rv.cols, cpu_threads());
  }
  return {dx, param_grad(dg, gamma), param_grad(db, gamma)};
}

namespace {
struct LayerNormFunction : torch::autograd::Function<LayerNormFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& gamma, const torch::Tensor& beta, double eps) {
    auto [y, mean, rstd] = layernorm_forward(x, gamma, beta, eps);
    ctx->save_for_backward({x, gamma, mean, rstd});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto s = ctx->get_saved_variables();
    // Frozen norms (every PEFT method but ln) skip the dgamma/dbeta reductions.
    auto [dx, dg, db] = layernorm_backward(grads[0], s[0], s[2], s[3], s[1],
                                           {ctx->needs_input_grad(0), ctx->needs_input_grad(1), ctx->needs_input_grad(2)});
    return {dx, dg, db, torch::Tensor()};
  }
};
}  // namespace

torch::Tensor fused_layer_norm(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                               double eps) {
  return LayerNormFunction::apply(x, gamma, beta, eps);
}

}  // namespace lntune::ops
