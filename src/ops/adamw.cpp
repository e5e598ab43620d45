#include "ops/adamw.h"

#include <ATen/record_function.h>

#include "adamw/adamw_cpu.h"
#include "ops/tensor_args.h"
#ifdef LNTUNE_WITH_CUDA
#include "ops/adamw_cuda.h"
#endif

namespace lntune::ops {

void fused_adamw_(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                  const torch::Tensor& exp_avg_sq, const kernels::AdamWScalars& s) {
  RECORD_FUNCTION("lntune::adamw", c10::ArrayRef<const c10::IValue>{});  // one op to count_ops
  TORCH_CHECK(param.defined(), "fused adamw: param is undefined");
  for (const auto& [t, name] : {std::make_pair(&param, "param"), std::make_pair(&grad, "grad"),
                                std::make_pair(&exp_avg, "exp_avg"), std::make_pair(&exp_avg_sq, "exp_avg_sq")}) {
    check_param(*t, param, param.numel(), "fused adamw", name);  // defined, param's size and device
    TORCH_CHECK(t->scalar_type() == torch::kFloat, "fused adamw: ", name, " is ", t->scalar_type(), ", not float32");
    TORCH_CHECK(t->is_contiguous(), "fused adamw: ", name, " is not contiguous");
  }
  if (param.is_cuda()) {
#ifdef LNTUNE_WITH_CUDA
    adamw_step_cuda(param, grad, exp_avg, exp_avg_sq, s);
#else
    TORCH_CHECK(false, "fused adamw: this build has no CUDA kernels");
#endif
    return;
  }
  TORCH_CHECK(param.is_cpu(), "fused adamw: tensors on ", param.device(), " (CPU or CUDA only)");
  kernels::cpu::adamw_step(param.data_ptr<float>(), grad.data_ptr<float>(), exp_avg.data_ptr<float>(),
                           exp_avg_sq.data_ptr<float>(), param.numel(), s, cpu_threads());
}

}  // namespace lntune::ops
