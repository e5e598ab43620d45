// models/attention.h: the written-out attention against the formula in float64, and the fused
// path (LibTorch >= 2.1: scaled_dot_product_attention) against the written-out one on whole
// models — BERT with a padding mask and a prefix, GPT-2 with its causal mask and padding. Where
// LibTorch has no fused attention (Debian's 1.13), asking for it is an error naming the key.
#include "models/attention.h"

#include <gtest/gtest.h>

#include "io/checkpoint.h"
#include "util/error.h"
#include "peft/method.h"
#include "test_paths.h"

using namespace lntune;

namespace {

Batch padded_batch(int64_t vocab, int64_t B, int64_t T) {
  torch::manual_seed(3);
  Batch b;
  b.input_ids = torch::randint(5, vocab, {B, T});
  b.attention_mask = torch::ones({B, T}, torch::kLong);
  b.attention_mask.index_put_({1, torch::indexing::Slice(T / 2)}, 0);  // the second row is half padding
  b.token_type_ids = torch::zeros({B, T}, torch::kLong);
  return b;
}

// Hidden states of the fixture model built with `attention` (with a seeded 3-token prefix in every
// layer when `prefix`), at positions that are not padding.
std::vector<torch::Tensor> states(const std::string& fixture, const std::string& attention, const Batch& b,
                                  bool prefix) {
  LoadOptions opt;
  opt.attention = attention;
  auto lm = load_model(test::fixtures() + "/" + fixture, std::nullopt, NormOptions(), opt);
  if (prefix) {
    torch::manual_seed(7);
    peft::apply_methods(*lm.model, nlohmann::json::parse(R"({"name": "prefix", "length": 3, "reparam": false})"), "test");
  }
  lm.model->eval();
  torch::NoGradGuard g;
  auto out = lm.model->forward(b, true);
  auto keep = b.attention_mask.to(torch::kBool);
  std::vector<torch::Tensor> s;
  for (const auto& h : out.hidden_states) s.push_back(h.index({keep}));
  return s;
}

}  // namespace

TEST(Attention, EagerIsTheFormula) {
  torch::manual_seed(0);
  auto q = torch::randn({2, 3, 5, 8}), k = torch::randn({2, 3, 7, 8}), v = torch::randn({2, 3, 7, 8});
  auto mask = torch::zeros({2, 1, 1, 7});
  mask.index_put_({1, 0, 0, torch::indexing::Slice(4)}, -1e9);
  Dropout dropout(0.5);
  dropout->eval();
  auto got = attend(q, k, v, mask, 0.25, dropout, /*sdpa=*/false);
  // The plain reference in float64.
  auto qd = q.to(torch::kDouble), kd = k.to(torch::kDouble), vd = v.to(torch::kDouble);
  auto p = torch::softmax(torch::matmul(qd, kd.transpose(-1, -2)) * 0.25 + mask.to(torch::kDouble), -1);
  auto want = torch::matmul(p, vd);
  EXPECT_LT((got.to(torch::kDouble) - want).abs().max().item<double>(), 1e-5);
  // The masked keys of the second batch row carry no weight.
  EXPECT_LT(p.index({1, torch::indexing::Ellipsis, torch::indexing::Slice(4)}).abs().max().item<double>(), 1e-12);
}

TEST(Attention, SdpaEqualsEagerOnBertAndGpt2) {
  if (!sdpa_available()) GTEST_SKIP() << "this LibTorch has no scaled_dot_product_attention (>= 2.1)";
  for (const char* fixture : {"bert_seq_cls", "gpt2_lm"})
    for (bool prefix : {false, true}) {
      SCOPED_TRACE(std::string(fixture) + (prefix ? " with a prefix" : ""));
      auto b = padded_batch(128, 2, 12);  // the fixtures' vocabulary
      if (std::string(fixture) == "gpt2_lm") b.token_type_ids = torch::Tensor();
      auto eager = states(fixture, "eager", b, prefix), sdpa = states(fixture, "sdpa", b, prefix);
      ASSERT_EQ(eager.size(), sdpa.size());
      for (size_t i = 0; i < eager.size(); ++i)
        EXPECT_LT((eager[i] - sdpa[i]).abs().max().item<double>(), 1e-5) << "hidden state " << i;
    }
}

TEST(Attention, SdpaWithoutLibTorchSupportNamesTheKey) {
  if (sdpa_available()) GTEST_SKIP() << "this LibTorch has scaled_dot_product_attention";
  auto q = torch::randn({1, 1, 2, 4});
  Dropout dropout(0.0);
  try {
    attend(q, q, q, torch::Tensor(), 0.5, dropout, /*sdpa=*/true);
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.attention: sdpa needs LibTorch >= 2.1"), std::string::npos) << e.what();
  }
  // What `lntune train` / `pretrain` say before building anything.
  try {
    resolve_attention("sdpa", "run.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("run.json: model.attention: sdpa needs LibTorch >= 2.1; this build's is ", 0), 0u)
        << e.what();
  }
  EXPECT_EQ(resolve_attention("eager", "run.json"), "eager");
}

// "auto" (the configs' default) is sdpa exactly where this LibTorch has it; names are checked.
TEST(Attention, AutoIsSdpaWhereLibTorchHasIt) {
  EXPECT_EQ(resolve_attention("auto", "run.json"), sdpa_available() ? "sdpa" : "eager");
  EXPECT_EQ(resolve_attention("eager", "run.json"), "eager");
  if (sdpa_available()) EXPECT_EQ(resolve_attention("sdpa", "run.json"), "sdpa");
  try {
    resolve_attention("flash", "run.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "run.json: model.attention: 'flash' is not one of auto, eager, sdpa");
  }
}
