// LM batches and heads: CLM targets are the inputs shifted by one, MLM targets the original ids
// at the corrupted positions; the heads' logits at lm_positions equal the full logits gathered,
// and the BERT MLM head is HF's BertLMPredictionHead (checked against torch's own ops).
#include <gtest/gtest.h>

#include "models/model.h"
#include "models/presets.h"
#include "pretrain/lm_batch.h"
#include "test_paths.h"

using namespace lntune;

namespace {
TokenStream stream(const Tokenizer& tok, int32_t sep) {
  std::vector<std::string> docs = {"The cat sat on the mat.", "A second, longer document about pretraining small models.",
                                   "Third one.", "Packing concatenates documents with separators between them."};
  return tokenize_corpus(tok, docs, sep, 0, 1).train;
}

std::shared_ptr<TaskModelImpl> tiny(const std::string& preset, int64_t vocab, Head head) {
  torch::manual_seed(0);
  auto j = model_preset(preset, vocab);
  if (preset.rfind("gpt2", 0) == 0) j.update({{"n_embd", 32}, {"n_layer", 1}, {"n_head", 2}, {"n_positions", 64}});
  else j.update({{"hidden_size", 32}, {"num_hidden_layers", 1}, {"num_attention_heads", 2}, {"intermediate_size", 64}});
  auto m = build_model(ModelConfig::from_json(j, "test"), head);
  init_weights(*m);
  m->eval();
  return m;
}
}  // namespace

TEST(LmBatch, ClmTargetsAreTheNextToken) {
  auto tok = Tokenizer::from_dir(test::gpt2_tokenizer_dir());
  auto s = stream(*tok, 50256);
  LmBatchMaker maker(false, 8, *tok, test::gpt2_tokenizer_dir());
  auto starts = block_starts(s, maker.content());
  ASSERT_GE(starts.size(), 3u);
  auto b = maker.make(s, {starts[0], starts[2]}, {0, 1}, 0);
  ASSERT_EQ(b.inputs.input_ids.sizes(), (std::vector<int64_t>{2, 8}));
  ASSERT_EQ(b.targets.numel(), 2 * 7);  // the last position of a block predicts nothing
  auto ids = b.inputs.input_ids;
  auto pos = b.inputs.lm_positions;
  for (int64_t k = 0; k < pos.numel(); ++k) {
    int64_t p = pos[k].item<int64_t>(), row = p / 8, t = p % 8;
    ASSERT_LT(t, 7);
    EXPECT_EQ(b.targets[k].item<int64_t>(), ids[row][t + 1].item<int64_t>());
  }
  // The inputs are the stream itself (no specials added for GPT-2).
  for (int64_t t = 0; t < 8; ++t) EXPECT_EQ(ids[1][t].item<int64_t>(), s.ids[static_cast<size_t>(starts[2] + t)]);
}

TEST(LmBatch, ClmLossEqualsTheShiftedFullLogitsLoss) {
  auto tok = Tokenizer::from_dir(test::gpt2_tokenizer_dir());
  auto s = stream(*tok, 50256);
  LmBatchMaker maker(false, 16, *tok, test::gpt2_tokenizer_dir());
  auto starts = block_starts(s, 16);
  auto b = maker.make(s, {starts[0], starts[1]}, {0, 0}, 0);
  auto model = tiny("gpt2-mini", 50257, Head::LanguageModel);
  torch::NoGradGuard g;
  auto ours = torch::cross_entropy_loss(model->forward(b.inputs).logits, b.targets);
  Batch full;
  full.input_ids = b.inputs.input_ids;
  auto logits = model->forward(full).logits;  // [B, T, V]; HF: shift logits left, labels right
  auto V = logits.size(-1);
  auto ref = torch::cross_entropy_loss(logits.narrow(1, 0, 15).reshape({-1, V}),
                                       full.input_ids.narrow(1, 1, 15).reshape({-1}));
  EXPECT_NEAR(ours.item<double>(), ref.item<double>(), 1e-5);
}

TEST(LmBatch, MlmTargetsAreTheOriginalIdsAtCorruptedPositions) {
  auto tok = Tokenizer::from_dir(test::bert_vocab_dir());
  auto s = stream(*tok, 102);
  MaskingOptions mo;
  mo.prob = 0.5;  // many positions in a short test
  LmBatchMaker maker(true, 12, *tok, test::bert_vocab_dir(), mo);
  ASSERT_EQ(maker.content(), 10);
  auto starts = block_starts(s, 10);
  auto b = maker.make(s, {starts[0], starts[1]}, {11, 12}, 5);
  auto ids = b.inputs.input_ids;
  ASSERT_EQ(ids.sizes(), (std::vector<int64_t>{2, 12}));
  for (int64_t r = 0; r < 2; ++r) {
    EXPECT_EQ(ids[r][0].item<int64_t>(), 101);   // [CLS]
    EXPECT_EQ(ids[r][11].item<int64_t>(), 102);  // [SEP]
  }
  ASSERT_GT(b.targets.numel(), 0);
  std::set<int64_t> predicted;
  for (int64_t k = 0; k < b.targets.numel(); ++k) {
    int64_t p = b.inputs.lm_positions[k].item<int64_t>(), row = p / 12, t = p % 12;
    predicted.insert(p);
    ASSERT_GT(t, 0);
    ASSERT_LT(t, 11);
    EXPECT_EQ(b.targets[k].item<int64_t>(), s.ids[static_cast<size_t>(starts[static_cast<size_t>(row)] + t - 1)]);
  }
  // Unselected positions carry the stream unchanged.
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t t = 1; t < 11; ++t)
      if (!predicted.count(r * 12 + t))
        EXPECT_EQ(ids[r][t].item<int64_t>(), s.ids[static_cast<size_t>(starts[static_cast<size_t>(r)] + t - 1)]);
  // The same seeds give the same batch.
  auto again = maker.make(s, {starts[0], starts[1]}, {11, 12}, 5);
  EXPECT_TRUE(torch::equal(again.inputs.input_ids, ids));
}

TEST(LmBatch, BertMlmHeadIsTiedAndGathersPositions) {
  auto model = tiny("bert-mini", 30522, Head::MaskedLanguageModel);
  auto names = model->named_parameters();
  EXPECT_TRUE(names.contains("cls.predictions.bias"));
  EXPECT_TRUE(names.contains("cls.predictions.transform.dense.weight"));
  EXPECT_TRUE(names.contains("cls.predictions.transform.LayerNorm.weight"));
  EXPECT_FALSE(names.contains("bert.pooler.dense.weight"));  // BertForMaskedLM has no pooler
  torch::NoGradGuard g;
  names["cls.predictions.bias"].normal_();
  Batch b;
  b.input_ids = torch::randint(1000, 2000, {2, 9}, torch::kLong);
  auto out = model->forward(b);
  ASSERT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 9, 30522}));
  // Reference: gelu(dense(h)) -> LayerNorm -> h @ word_embeddings^T + bias, with torch's ops.
  auto h = out.last_hidden_state;
  auto x = torch::gelu(torch::linear(h, names["cls.predictions.transform.dense.weight"], names["cls.predictions.transform.dense.bias"]));
  x = torch::layer_norm(x, {32}, names["cls.predictions.transform.LayerNorm.weight"],
                        names["cls.predictions.transform.LayerNorm.bias"], model->config.layer_norm_eps);
  auto ref = torch::matmul(x, names["bert.embeddings.word_embeddings.weight"].t()) + names["cls.predictions.bias"];
  EXPECT_TRUE(torch::allclose(out.logits, ref, 1e-5, 1e-5));
  b.lm_positions = torch::tensor({3, 10, 17}, torch::kLong);
  auto some = model->forward(b).logits;
  ASSERT_EQ(some.sizes(), (std::vector<int64_t>{3, 30522}));
  EXPECT_TRUE(torch::allclose(some, out.logits.reshape({18, -1}).index_select(0, b.lm_positions), 1e-6, 1e-6));
}
