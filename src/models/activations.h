// Activation functions by HF config name (hidden_act / activation_function).
#pragma once
#include <torch/torch.h>

#include <string>

namespace lntune {

// Throws lntune::Error for an unknown name.
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

}  // namespace lntune
