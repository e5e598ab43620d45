// Binding of kernels/dropout: dtype handling, the seed and the autograd function; the kernel sees
// raw pointers only.
#include "ops/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/record_function.h>

#include <mutex>

#include "dropout/dropout_cpu.h"
#include "ops/tensor_args.h"

namespace lntune::ops {

namespace {
constexpr const char* kDropoutOp = "fused dropout";
}  // namespace

torch::Tensor dropout_apply(const torch::Tensor& x, double p, uint64_t seed) {
  RECORD_FUNCTION("lntune::dropout", c10::ArrayRef<const c10::IValue>{});  // one op to count_ops
  TORCH_CHECK(x.is_cpu(), kDropoutOp, ": input on ", x.device(), " (its kernel is the CPU's; CUDA runs torch's)");
  TORCH_CHECK(p >= 0 && p < 1, kDropoutOp, ": p must be in [0, 1), got ", p);
  const auto t = x.scalar_type();
  if (t != torch::kFloat && t != torch::kBFloat16) {
    // float16 is exact in float32 and rounded once on the way back. Any other type (float64 in
    // gradient checks) is multiplied by the float32 mask, so its own precision is kept.
    if (t == torch::kHalf) return dropout_apply(x.to(torch::kFloat), p, seed).to(t);
    return x * dropout_apply(torch::ones(x.sizes(), x.options().dtype(torch::kFloat)), p, seed).to(t);
  }
  auto xc = x.contiguous();
  auto y = torch::empty_like(xc);
  kernels::cpu::dropout_apply(kernel_dtype(xc, kDropoutOp, "input"), xc.data_ptr(), y.data_ptr(), xc.numel(), p, seed,
                              cpu_threads());
  return y;
}

uint64_t draw_dropout_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get<at::CPUGeneratorImpl>()->random64();
}

namespace {
struct DropoutFunction : torch::autograd::Function<DropoutFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    const uint64_t seed = draw_dropout_seed();
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);  // the mask is redrawn, not saved
    ctx->saved_data["p"] = p;
    return dropout_apply(x, p, seed);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    return {dropout_apply(grads[0], ctx->saved_data["p"].toDouble(), seed), torch::Tensor()};
  }
};
}  // namespace

torch::Tensor fused_dropout(const torch::Tensor& x, double p) {
  TORCH_CHECK(p >= 0 && p < 1, kDropoutOp, ": p must be in [0, 1), got ", p);
  if (p == 0) return x;
  if (!x.is_cpu()) return torch::dropout(x, p, /*train=*/true);
  return DropoutFunction::apply(x, p);
}

}  // namespace lntune::ops
