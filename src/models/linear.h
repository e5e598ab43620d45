// nn::Linear modules applied through torch::linear: one operator (an addmm over the flattened
// rows), where LibTorch 1.13's Linear::forward runs matmul and then add_ for the bias on 3-D
// inputs — an operator (a kernel launch on a GPU) and a pass over the output more per call.
#pragma once
#include <torch/torch.h>

namespace lntune {

inline torch::Tensor linear(const torch::nn::Linear& m, const torch::Tensor& x) {
  return torch::linear(x, m->weight, m->bias);
}

}  // namespace lntune
