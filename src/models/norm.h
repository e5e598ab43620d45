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
  // "auto" | "layernorm" | "dyt". "auto": what the checkpoint holds (resolve_norm in
  // io/checkpoint.h); a model built without one gets LayerNorm.
  TORCH_ARG(std::string, type) = "auto";
  TORCH_ARG(std::string, impl) = "torch";      // "torch" | "fused"
  TORCH_ARG(double, dyt_alpha_init) = 0.5;
  // How DyT norms that do not come from a checkpoint start: "constant" (the paper's: alpha =
  // dyt_alpha_init, gamma/beta as they are) or "calibrated" (models/dyt_calibration.h: each norm
  // fitted to the LayerNorm it replaces on real batches, dyt_alpha_init then being the tanh
  // argument of a one-sigma input).
  TORCH_ARG(std::string, dyt_init) = "constant";
};

class NormImpl : public torch::nn::Module {
 public:
  explicit NormImpl(const NormOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  NormOptions options;
  torch::Tensor weight, bias, alpha;  // alpha only for dyt

  // DyT calibration (models/dyt_calibration.h). While `calib.stage` is set, forward computes the
  // LayerNorm this norm stands for (its own gamma/beta), so every later norm sees the LayerNorm
  // model's activations, and accumulates statistics of its input rows.
  struct Calibration {
    int stage = 0;       // 0 off; 1: the sum of the rows' std; 2: the per-feature fit's sums
    double alpha = 0;    // stage 2: the alpha that stage 1 chose
    int64_t rows = 0;
    double std_sum = 0;
    torch::Tensor u, uu, t, ut;  // stage 2, per feature (float64): u = tanh(alpha x), t = (x - mean) / std
  } calib;
};
TORCH_MODULE(Norm);

// Validates type/impl names (TORCH_CHECK naming the value) and returns the layer.
Norm make_norm(const NormOptions& options);

}  // namespace lntune
