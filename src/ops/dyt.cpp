// Binding of kernels/dyt: checks, flattening, dtype handling and device dispatch here; the kernels
// see raw pointers only.
#include "ops/dyt.h"

#include <ATen/record_function.h>

#include "dyt/dyt_cpu.h"
#include "ops/kernel_version.h"
#include "ops/tensor_args.h"
#ifdef LNTUNE_WITH_CUDA
#include "ops/norm_cuda.h"
#endif

namespace lntune::ops {

namespace {
constexpr const char* kDytOp = "fused dyt";
}  // namespace

torch::Tensor dyt_forward(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& gamma,
                          const torch::Tensor& beta) {
  RECORD_FUNCTION("lntune::dyt_forward", c10::ArrayRef<const c10::IValue>{});  // one op to count_ops
  auto rv = row_view(x, gamma.defined() ? gamma.numel() : 0, kDytOp);
  check_param(alpha, x, 1, kDytOp, "alpha");
  check_param(gamma, x, rv.cols, kDytOp, "weight");
  check_param(beta, x, rv.cols, kDytOp, "bias");
  if (cpu_needs_upcast(x)) return dyt_forward(x.to(torch::kFloat), alpha, gamma, beta).to(x.scalar_type());
  auto xc = x.contiguous();
  auto g = kernel_param(gamma, x);
  auto a = kernel_param(alpha, x).to(g.scalar_type()), b = kernel_param(beta, x).to(g.scalar_type());
  auto y = torch::empty_like(xc);
  if (x.is_cuda()) {
#ifdef LNTUNE_WITH_CUDA
    dyt_forward_cuda(xc, a, g, b, y, cuda_kernel_version(CudaKernel::dyt));
#else
    TORCH_CHECK(false, kDytOp, ": this build has no CUDA kernels");
#endif
  } else {
    kernels::cpu::dyt_forward(kernel_dtype(xc, kDytOp, "input"), kernel_dtype(g, kDytOp, "weight"), xc.data_ptr(),
                              a.data_ptr(), g.data_ptr(), b.data_ptr(), y.data_ptr(), rv.rows, rv.cols, cpu_threads());
  }
  return y;
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> dyt_backward(const torch::Tensor& dy,
                                                                                    const torch::Tensor& x,
                                                                                    const torch::Tensor& alpha,
                                                                                    const torch::Tensor& gamma,
                                                                                    std::array<bool, 4> want) {
  RECORD_FUNCTION("lntune::dyt_backward", c10::ArrayRef<const c10::IValue>{});  // one op to count_ops
  auto rv = row_view(x, gamma.numel(), kDytOp);
  check_param(alpha, x, 1, kDytOp, "alpha");
  TORCH_CHECK(dy.sizes() == x.sizes(), kDytOp, ": gradient shape ", dy.sizes(), " != input shape ", x.sizes());
  if (cpu_needs_upcast(x)) {
    auto [dx, da, dg, db] = dyt_backward(dy.to(torch::kFloat), x.to(torch::kFloat), alpha, gamma, want);
    return {dx.defined() ? dx.to(x.scalar_type()) : dx, da, dg, db};
  }
  auto xc = x.contiguous(), dyc = dy.to(x.scalar_type()).contiguous();
  auto g = kernel_param(gamma, x), a = kernel_param(alpha, x).to(g.scalar_type());
  auto dx = want[0] ? torch::empty_like(xc) : torch::Tensor();
  auto da = grad_buffer(want[1], 1, g), dg = grad_buffer(want[2], rv.cols, g), db = grad_buffer(want[3], rv.cols, g);
  if (x.is_cuda()) {
#ifdef LNTUNE_WITH_CUDA
    dyt_backward_cuda(dyc, xc, a, g, dx, da, dg, db, cuda_kernel_version(CudaKernel::dyt));
#else
    TORCH_CHECK(false, kDytOp, ": this build has no CUDA kernels");
#endif
  } else {
    auto fp = [](const torch::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; };
    kernels::cpu::dyt_backward(kernel_dtype(xc, kDytOp, "input"), kernel_dtype(g, kDytOp, "weight"), dyc.data_ptr(),
                               xc.data_ptr(), a.data_ptr(), g.data_ptr(), dx.defined() ? dx.data_ptr() : nullptr,
                               fp(da), fp(dg), fp(db), rv.rows, rv.cols, cpu_threads());
  }
  return {dx, param_grad(da, alpha), param_grad(dg, gamma), param_grad(db, gamma)};
}

namespace {
struct DytFunction : torch::autograd::Function<DytFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& alpha, const torch::Tensor& gamma, const torch::Tensor& beta) {
    ctx->save_for_backward({x, alpha, gamma});  // tanh is recomputed: nothing else kept alive
    return dyt_forward(x, alpha, gamma, beta);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto s = ctx->get_saved_variables();
    auto [dx, da, dg, db] = dyt_backward(grads[0], s[0], s[1], s[2],
                                         {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                          ctx->needs_input_grad(2), ctx->needs_input_grad(3)});
    return {dx, da, dg, db};
  }
};
}  // namespace

torch::Tensor fused_dyt(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& gamma,
                        const torch::Tensor& beta) {
  return DytFunction::apply(x, alpha, gamma, beta);
}

}  // namespace lntune::ops
