// AdamW with decoupled weight decay (Loshchilov & Hutter), the update torch::optim::AdamW makes.
// Our own so that its state (step, exp_avg, exp_avg_sq per tensor) is plain named tensors that
// checkpoints save and restore bit-exactly on any LibTorch version.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace lntune {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

class AdamW {
 public:
  struct Param {
    std::string name;
    torch::Tensor value;
    double weight_decay = 0;
    torch::Tensor exp_avg, exp_avg_sq;
  };
  AdamW(std::vector<Param> params, AdamWOptions opt = {});
  void step(double lr);  // parameters without a gradient are skipped
  void zero_grad();
  int64_t steps() const { return step_; }
  std::vector<Param>& params() { return params_; }
  // State as named tensors ("<name>.exp_avg", "<name>.exp_avg_sq") plus the step count.
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step);

 private:
  std::vector<Param> params_;
  AdamWOptions opt_;
  int64_t step_ = 0;
};

}  // namespace lntune
