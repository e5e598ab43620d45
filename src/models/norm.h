// The one place every model builds its normalisation layers. Parameter names follow HF
// ("weight", "bias"; DyT adds "alpha") so checkpoints map one-to-one. impl "torch" runs
// torch::layer_norm / the composite tanh expression, "fused" our kernels (src/ops, kernels/).
#pragma once
#include <torch/torch.h>

#include <string>

namespace lntune {

struct NormOptions {
  NormOptions(int64_t dim = 0) : dim_(dim) {}  // NOLINT: implicit as torch's own options
  TORCH_ARG(int64_t, dim);
  TORCH_ARG(double, eps) = 1e-5;
  TORCH_ARG(std::string, type) = "layernorm";  // "layernorm" | "dyt"
  TORCH_ARG(std::string, impl) = "torch";      // "torch" | "fused"
  TORCH_ARG(double, dyt_alpha_init) = 0.5;
};

class NormImpl : public torch::nn::Module {
 public:
  explicit NormImpl(const NormOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  NormOptions options;
  torch::Tensor weight, bias, alpha;  // alpha only for dyt
};
TORCH_MODULE(Norm);

// Validates type/impl names (TORCH_CHECK naming the value) and returns the layer.
Norm make_norm(const NormOptions& options);

}  // namespace lntune
