#include "ops/adamw.h"

#include <ATen/record_function.h>

#include "adamw/adamw_cpu.h"
#include "ops/tensor_args.h"
#ifdef LNTUNE_WITH_CUDA
#include "ops/adamw_cuda.h"
#endif

namespace lntune::ops {

namespace {

void check_buffers(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                   const torch::Tensor& exp_avg_sq) {
  TORCH_CHECK(param.defined(), "fused adamw: param is undefined");
  for (const auto& [t, name] : {std::make_pair(&param, "param"), std::make_pair(&grad, "grad"),
                                std::make_pair(&exp_avg, "exp_avg"), std::make_pair(&exp_avg_sq, "exp_avg_sq")}) {
    check_param(*t, param, param.numel(), "fused adamw", name);  // defined, param's size and device
    TORCH_CHECK(t->scalar_type() == torch::kFloat, "fused adamw: ", name, " is ", t->scalar_type(), ", not float32");
    TORCH_CHECK(t->is_contiguous(), "fused adamw: ", name, " is not contiguous");
  }
  TORCH_CHECK(param.is_cpu() || param.is_cuda(), "fused adamw: tensors on ", param.device(), " (CPU or CUDA only)");
#ifndef LNTUNE_WITH_CUDA
  TORCH_CHECK(!param.is_cuda(), "fused adamw: this build has no CUDA kernels");
#endif
}

}  // namespace

void fused_adamw_(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                  const torch::Tensor& exp_avg_sq, const kernels::AdamWScalars& s) {
  RECORD_FUNCTION("lntune::adamw", c10::ArrayRef<const c10::IValue>{});  // one op to count_ops
  check_buffers(param, grad, exp_avg, exp_avg_sq);
#ifdef LNTUNE_WITH_CUDA
  if (param.is_cuda()) return adamw_step_cuda(param, grad, exp_avg, exp_avg_sq, s);
#endif
  kernels::cpu::adamw_step(param.data_ptr<float>(), grad.data_ptr<float>(), exp_avg.data_ptr<float>(),
                           exp_avg_sq.data_ptr<float>(), param.numel(), s, cpu_threads());
}

void fused_adamw_(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                  const torch::Tensor& exp_avg_sq, const torch::Tensor& scalars) {
  RECORD_FUNCTION("lntune::adamw", c10::ArrayRef<const c10::IValue>{});
  check_buffers(param, grad, exp_avg, exp_avg_sq);
  check_param(scalars, param, kernels::kAdamWScalarFloats, "fused adamw", "scalars");
  TORCH_CHECK(scalars.scalar_type() == torch::kFloat && scalars.is_contiguous(),
              "fused adamw: scalars must be contiguous float32");
  const auto* s = reinterpret_cast<const kernels::AdamWScalars*>(scalars.data_ptr<float>());
#ifdef LNTUNE_WITH_CUDA
  if (param.is_cuda()) return adamw_step_cuda(param, grad, exp_avg, exp_avg_sq, s);
#endif
  kernels::cpu::adamw_step(param.data_ptr<float>(), grad.data_ptr<float>(), exp_avg.data_ptr<float>(),
                           exp_avg_sq.data_ptr<float>(), param.numel(), *s, cpu_threads());
}

}  // namespace lntune::ops
