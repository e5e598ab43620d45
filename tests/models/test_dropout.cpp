// models/dropout.h: the layer runs the impl it is given (ours or torch::dropout, each against the
// op itself under the same generator state), is x itself in eval mode, and every dropout of BERT,
// GPT-2 and LoRA is this layer with the run's impl (no torch::nn::Dropout left to miss a swap).
#include "models/dropout.h"

#include <gtest/gtest.h>

#include "io/checkpoint.h"
#include "ops/dropout.h"
#include "peft/method.h"
#include "test_paths.h"

using namespace lntune;

TEST(Dropout, RunsItsImpl) {
  auto x = torch::randn({8, 300});
  Dropout fused(DropoutOptions(0.4)), eager(DropoutOptions(0.4).impl("torch"));
  torch::manual_seed(5);
  auto a = fused(x);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(a, ops::fused_dropout(x, 0.4)));
  torch::manual_seed(5);
  auto b = eager(x);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(b, torch::dropout(x, 0.4, true)));
  EXPECT_FALSE(torch::equal(a, b));  // different masks from the same seed
  fused->eval();
  eager->eval();
  EXPECT_TRUE(fused(x).is_same(x));
  EXPECT_TRUE(eager(x).is_same(x));
  Dropout none(DropoutOptions(0.0));
  EXPECT_TRUE(none(x).is_same(x));
}

TEST(Dropout, BadOptionsNameTheKey) {
  try {
    Dropout d(DropoutOptions(0.1).impl("cudnn"));
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.dropout_impl: unknown impl 'cudnn' (fused, torch)"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Dropout(DropoutOptions(1.0)), c10::Error);
}

TEST(Dropout, EveryDropoutOfBertGpt2AndLoraIsOursWithTheRunsImpl) {
  for (const char* fixture : {"bert_seq_cls", "gpt2_lm"})
    for (const char* impl : {"fused", "torch"}) {
      SCOPED_TRACE(std::string(fixture) + " " + impl);
      LoadOptions opt;
      opt.dropout_impl = impl;
      auto lm = load_model(test::fixtures() + "/" + fixture, std::nullopt, NormOptions(), opt);
      peft::apply_methods(*lm.model, nlohmann::json::parse(R"({"name": "lora", "dropout": 0.1})"), "test");
      int ours = 0, lora = 0;
      for (const auto& m : lm.model->named_modules()) {
        EXPECT_EQ(dynamic_cast<torch::nn::DropoutImpl*>(m.value().get()), nullptr) << m.key();
        if (auto* d = dynamic_cast<DropoutImpl*>(m.value().get())) {
          ++ours;
          lora += m.key().find("lora_dropout") != std::string::npos;
          EXPECT_EQ(d->options.impl(), impl) << m.key();
        }
      }
      // Per layer: BERT's attention-probability, attention-output and FFN-output dropouts (3)
      // plus embeddings and classifier; GPT-2's attn, resid and MLP (3) plus embeddings. LoRA
      // adds one per wrapped projection.
      EXPECT_GT(lora, 0);
      const int64_t layers = lm.model->config.num_layers;
      EXPECT_EQ(ours - lora, 3 * layers + (lm.model->config.is_bert() ? 2 : 1));
    }
}
