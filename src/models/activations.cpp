#include "models/activations.h"

#include "util/error.h"

namespace lntune {

torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  if (name == "gelu") return torch::gelu(x);  // exact erf form, as HF "gelu"
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), GPT-2's approximation, as torch's one fused
  // operator: HF's gelu_new writes it out as 8 (and its backward as more), each keeping a
  // [tokens, 4H] tensor for the backward; the fused one keeps x alone and computes in fp32
  // under bf16 autocast. tests/models/test_gpt2.cpp checks it against the written-out formula.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  if (name == "tanh") return torch::tanh(x);
  throw Error("unknown activation '" + name + "'");
}

}  // namespace lntune
