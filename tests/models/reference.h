// Helpers for comparing a loaded model against reference outputs stored as safetensors
// (inputs + logits + hidden_states.N), as written by the fixture scripts.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "io/checkpoint.h"
#include "io/state_dict.h"

namespace lntune::test {

inline std::map<std::string, torch::Tensor> read_reference(const std::string& path) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : read_safetensors(path).tensors) out[k] = v.clone();
  return out;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Loads `model_path`, runs the reference inputs in eval mode and checks logits and every hidden
// state to `tol` (fp32). Only positions with attention_mask == 1 are compared for hidden states,
// since padded positions are unconstrained.
inline void expect_matches_reference(const std::string& model_path, const std::string& ref_path, double tol) {
  auto ref = read_reference(ref_path);
  auto lm = load_model(model_path);
  lm.model->eval();
  torch::NoGradGuard g;
  Batch b{ref.at("input_ids"), ref.at("attention_mask"), ref.at("token_type_ids")};
  auto out = lm.model->forward(b, true);
  auto keep = ref.at("attention_mask").to(torch::kBool);
  ASSERT_EQ(out.logits.sizes(), ref.at("logits").sizes()) << model_path;
  if (out.logits.dim() == 3)
    EXPECT_LE(max_abs_diff(out.logits.index({keep}), ref.at("logits").index({keep})), tol) << model_path << " logits";
  else
    EXPECT_LE(max_abs_diff(out.logits, ref.at("logits")), tol) << model_path << " logits";
  size_t n = 0;
  while (ref.count("hidden_states." + std::to_string(n))) ++n;
  ASSERT_EQ(out.hidden_states.size(), n) << model_path;
  for (size_t i = 0; i < n; ++i)
    EXPECT_LE(max_abs_diff(out.hidden_states[i].index({keep}), ref.at("hidden_states." + std::to_string(i)).index({keep})),
              tol)
        << model_path << " hidden_states." << i;
}

}  // namespace lntune::test
