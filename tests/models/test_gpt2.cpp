// Seeded GPT-2 (tests/fixtures) from each checkpoint format against the eager reference (1e-5).
#include <gtest/gtest.h>

#include "models/activations.h"
#include "models/gpt2.h"
#include "models/reference.h"
#include "test_paths.h"

using namespace lntune;

// GPT-2's activation runs as torch's fused tanh GELU; HF's gelu_new writes the formula out.
// Plain reference: that formula in float64, forward and gradient.
TEST(Gpt2, GeluNewIsTheWrittenOutFormula) {
  torch::manual_seed(0);
  auto x = torch::cat({torch::randn({4096}) * 3, torch::tensor({0.0f, -20.0f, 20.0f, 1e-4f})});
  auto ref_x = x.to(torch::kDouble).requires_grad_();
  auto ref = 0.5 * ref_x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (ref_x + 0.044715 * torch::pow(ref_x, 3.0))));
  ref.sum().backward();
  for (const char* name : {"gelu_new", "gelu_pytorch_tanh", "gelu_fast"}) {
    auto xf = x.clone().requires_grad_();
    auto y = activation(name, xf);
    y.sum().backward();
    EXPECT_LT((y.to(torch::kDouble) - ref).abs().max().item<double>(), 1e-5) << name;  // fp32's bar
    EXPECT_LT((xf.grad().to(torch::kDouble) - ref_x.grad()).abs().max().item<double>(), 1e-5) << name;
  }
  // The exact (erf) GELU is a different function: the check can tell them apart.
  EXPECT_GT((activation("gelu", x).to(torch::kDouble) - ref).abs().max().item<double>(), 1e-4);
}

TEST(Gpt2, SafetensorsFolderMatchesReference) {
  test::expect_matches_reference(test::fixtures() + "/gpt2_lm", test::fixtures() + "/gpt2_lm_ref.safetensors", 1e-5);
}
TEST(Gpt2, PytorchBinMatchesReference) {
  test::expect_matches_reference(test::fixtures() + "/gpt2_lm_bin", test::fixtures() + "/gpt2_lm_ref.safetensors", 1e-5);
}
TEST(Gpt2, TorchScriptMatchesReference) {
  test::expect_matches_reference(test::fixtures() + "/gpt2_lm.pt", test::fixtures() + "/gpt2_lm_ref.safetensors", 1e-5);
}

TEST(Gpt2, Conv1DLayoutAndTiedHead) {
  auto c = ModelConfig::from_file(test::fixtures() + "/gpt2_lm/config.json");
  auto m = std::dynamic_pointer_cast<GPT2TaskModelImpl>(build_model(c, Head::LanguageModel));
  ASSERT_TRUE(m);
  std::map<std::string, torch::Tensor> p;
  for (const auto& kv : m->named_parameters()) p[kv.key()] = kv.value();
  // HF Conv1D stores [in, out].
  EXPECT_EQ(p.at("transformer.h.0.attn.c_attn.weight").sizes(), (std::vector<int64_t>{32, 96}));
  EXPECT_EQ(p.at("transformer.h.0.mlp.c_proj.weight").sizes(), (std::vector<int64_t>{128, 32}));
  EXPECT_FALSE(p.count("lm_head.weight"));  // tied to wte: one tensor, one name
  torch::NoGradGuard g;
  Batch b{torch::tensor({{5, 6, 7}}, torch::kLong), {}, {}};
  m->eval();
  auto out = m->forward(b);
  auto expect = torch::matmul(out.last_hidden_state, p.at("transformer.wte.weight").t());
  EXPECT_TRUE(torch::allclose(out.logits, expect));
}

TEST(Gpt2, CausalAndSequenceClassificationPooling) {
  auto c = ModelConfig::from_file(test::fixtures() + "/gpt2_lm/config.json");
  auto lm = load_model(test::fixtures() + "/gpt2_lm");
  lm.model->eval();
  torch::NoGradGuard g;
  // Causal: changing a later token leaves earlier positions unchanged.
  auto a = lm.model->forward({torch::tensor({{5, 6, 7, 8}}, torch::kLong), {}, {}}).last_hidden_state;
  auto b = lm.model->forward({torch::tensor({{5, 6, 7, 99}}, torch::kLong), {}, {}}).last_hidden_state;
  EXPECT_LE(test::max_abs_diff(a.narrow(1, 0, 3), b.narrow(1, 0, 3)), 1e-6);
  EXPECT_GT(test::max_abs_diff(a.narrow(1, 3, 1), b.narrow(1, 3, 1)), 1e-4);
  // Sequence classification pools the last real token (right padding).
  c.num_labels = 2;
  auto cls = std::dynamic_pointer_cast<GPT2TaskModelImpl>(build_model(c, Head::SequenceClassification));
  cls->eval();
  auto ids = torch::tensor({{5, 6, 7, 0, 0}, {5, 6, 7, 8, 9}}, torch::kLong);
  auto mask = torch::tensor({{1, 1, 1, 0, 0}, {1, 1, 1, 1, 1}}, torch::kLong);
  auto out = cls->forward({ids, mask, {}});
  auto h = out.last_hidden_state;
  auto expect = torch::stack({h[0][2], h[1][4]});
  EXPECT_TRUE(torch::allclose(out.logits, cls->score(expect)));
}
