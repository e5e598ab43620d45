// The one dropout layer of every model and PEFT method: impl "fused" (the default) runs our kernel
// (ops/dropout.h; on CUDA torch's own fused dropout), "torch" runs torch::dropout, whose CPU path
// draws a Bernoulli per element from mt19937 and keeps a mask tensor for the backward: ~14 ms
// forward+backward for a [16, 128, 1024] activation against 2.6 ms on one thread, 0.5 ms on two
// (docs/benchmarks.md, "Dropout on the CPU").
// The two draw different masks from the same seed; both draw from the default generator.
#pragma once
#include <torch/torch.h>

#include <string>

namespace lntune {

struct DropoutOptions {
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: implicit as torch's own options
  TORCH_ARG(double, p);
  TORCH_ARG(std::string, impl) = "fused";  // "fused" | "torch"
};

class DropoutImpl : public torch::nn::Module {
 public:
  explicit DropoutImpl(const DropoutOptions& options = {});
  // x itself in eval mode or at p = 0.
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  DropoutOptions options;
};
TORCH_MODULE(Dropout);

}  // namespace lntune
