// Seeded BERT (tests/fixtures, scripts/make_seeded_fixtures.py) loaded from each checkpoint
// format must reproduce the independent eager reference to 1e-5 (fp32).
#include <gtest/gtest.h>

#include <cmath>

#include "models/bert.h"
#include "models/position_init.h"
#include "models/reference.h"
#include "test_paths.h"
#include "util/error.h"

using namespace lntune;

TEST(Bert, SafetensorsFolderMatchesReference) {
  test::expect_matches_reference(test::fixtures() + "/bert_seq_cls", test::fixtures() + "/bert_seq_cls_ref.safetensors", 1e-5);
}
TEST(Bert, PytorchBinMatchesReference) {
  test::expect_matches_reference(test::fixtures() + "/bert_seq_cls_bin", test::fixtures() + "/bert_seq_cls_ref.safetensors", 1e-5);
}
TEST(Bert, TorchScriptMatchesReference) {
  test::expect_matches_reference(test::fixtures() + "/bert_seq_cls.pt", test::fixtures() + "/bert_seq_cls_ref.safetensors", 1e-5);
}

TEST(Bert, ParameterNamesAreHfCheckpointKeys) {
  auto c = ModelConfig::from_file(test::fixtures() + "/bert_seq_cls/config.json");
  auto m = build_model(c, Head::SequenceClassification);
  std::set<std::string> names;
  for (const auto& p : m->named_parameters()) names.insert(p.key());
  for (const char* k : {"bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight",
                        "bert.encoder.layer.1.attention.self.query.weight", "bert.encoder.layer.1.attention.output.LayerNorm.bias",
                        "bert.encoder.layer.0.intermediate.dense.weight", "bert.encoder.layer.0.output.LayerNorm.weight",
                        "bert.pooler.dense.weight", "classifier.bias"})
    EXPECT_TRUE(names.count(k)) << k;
  // 5 norms: embeddings + (after-MHA, after-FFN) x 2 layers, each from the Norm factory.
  auto norms = find_norms(*m);
  ASSERT_EQ(norms.size(), 5u);
  EXPECT_EQ(norms[0].role, "embedding");
  EXPECT_EQ(norms[1].role, "mha");
  EXPECT_EQ(norms[2].role, "ffn");
}

TEST(Bert, HeadsAndDropoutModes) {
  auto c = ModelConfig::from_file(test::fixtures() + "/bert_seq_cls/config.json");
  torch::manual_seed(0);
  Batch b{torch::randint(5, 100, {2, 7}), torch::ones({2, 7}, torch::kLong), {}};
  auto tok = build_model(c, Head::TokenClassification);
  EXPECT_EQ(tok->forward(b).logits.sizes(), (std::vector<int64_t>{2, 7, 3}));
  c.num_labels = 1;  // regression
  auto reg = build_model(c, Head::SequenceClassification);
  EXPECT_EQ(reg->forward(b).logits.sizes(), (std::vector<int64_t>{2, 1}));
  // Dropout is active in train mode and off in eval mode.
  reg->train();
  auto t1 = reg->forward(b).last_hidden_state, t2 = reg->forward(b).last_hidden_state;
  EXPECT_FALSE(torch::allclose(t1, t2));
  reg->eval();
  EXPECT_TRUE(torch::equal(reg->forward(b).last_hidden_state, reg->forward(b).last_hidden_state));
  EXPECT_THROW(build_model(c, Head::LanguageModel), std::exception);
}

TEST(Bert, PaddingDoesNotChangeRealTokens) {
  auto lm = load_model(test::fixtures() + "/bert_seq_cls");
  lm.model->eval();
  torch::NoGradGuard g;
  auto ids = torch::tensor({{2, 40, 41, 42, 3}}, torch::kLong);
  auto a = lm.model->forward({ids, torch::ones_like(ids), {}});
  auto padded = torch::cat({ids, torch::zeros({1, 3}, torch::kLong)}, 1);
  auto mask = torch::cat({torch::ones_like(ids), torch::zeros({1, 3}, torch::kLong)}, 1);
  auto b = lm.model->forward({padded, mask, {}});
  EXPECT_LE(test::max_abs_diff(a.logits, b.logits), 1e-5);
  EXPECT_LE(test::max_abs_diff(a.last_hidden_state, b.last_hidden_state.narrow(1, 0, 5)), 1e-5);
}

// The sinusoidal position init against the formula evaluated in plain doubles, for BERT and
// GPT-2 (whose table is transformer.wpe): PE[p, 2i] = sin(p w_i), PE[p, 2i+1] = cos(p w_i),
// w_i = 10000^(-2i/H), scaled to standard deviation 0.02.
TEST(Bert, SinusoidalPositionInit) {
  for (const char* dir : {"bert_seq_cls", "gpt2_lm"}) {
    auto c = ModelConfig::from_file(test::fixtures() + "/" + dir + "/config.json");
    auto m = build_model(c, c.is_bert() ? Head::SequenceClassification : Head::LanguageModel);
    auto name = init_sinusoidal_positions(*m);
    EXPECT_EQ(name, c.is_bert() ? "bert.embeddings.position_embeddings.weight" : "transformer.wpe.weight");
    auto w = m->named_parameters()[name].to(torch::kDouble);
    const int64_t P = w.size(0), H = w.size(1);
    const double scale = 0.02 * std::sqrt(2.0);
    double worst = 0;
    for (int64_t p = 0; p < P; ++p)
      for (int64_t j = 0; j < H; ++j) {
        double freq = std::pow(10000.0, -static_cast<double>(j - j % 2) / static_cast<double>(H));
        double want = scale * (j % 2 == 0 ? std::sin(static_cast<double>(p) * freq) : std::cos(static_cast<double>(p) * freq));
        worst = std::max(worst, std::abs(w[p][j].item<double>() - want));
      }
    EXPECT_LT(worst, 1e-8) << dir;  // stored in float32
    EXPECT_NEAR(w.pow(2).mean().sqrt().item<double>(), 0.02, 1e-7) << dir;
  }
  torch::nn::Linear no_table(2, 2);
  EXPECT_THROW(init_sinusoidal_positions(*no_table), Error);
}
