// The "local" attention init: measured through the model's own modules (embeddings + LayerNorm,
// query/key projections), layer 0's heads must put most of their weight on position i + offset,
// while what the init promises to leave alone stays as it was.
#include <gtest/gtest.h>

#include <map>

#include "models/attention_init.h"
#include "models/bert.h"
#include "models/gpt2.h"
#include "models/presets.h"
#include "util/error.h"

using namespace lntune;
using torch::indexing::Slice;

namespace {

ModelConfig preset(const std::string& name) { return ModelConfig::from_json(model_preset(name, 30522), name); }

// Layer 0's attention probabilities [A, T, T] for ids [1, T] (no mask: BERT sees every position;
// GPT-2's causal mask is applied), computed with the model's modules.
torch::Tensor layer0_probs(TaskModelImpl& m, const ModelConfig& c, const torch::Tensor& ids) {
  torch::NoGradGuard g;
  m.eval();
  const int64_t T = ids.size(1), A = c.num_heads, dh = c.hidden_size / A;
  auto mods = m.named_modules();
  torch::Tensor q, k;
  if (c.is_bert()) {
    auto x = mods["bert.embeddings"]->as<BertEmbeddingsImpl>()->forward(ids, torch::zeros_like(ids));
    auto* self = mods["bert.encoder.layer.0.attention.self"]->as<BertSelfAttentionImpl>();
    q = self->query(x);
    k = self->key(x);
  } else {
    auto* tr = mods["transformer"]->as<GPT2ModelImpl>();
    auto x = tr->wte(ids) + tr->wpe(torch::arange(T, torch::kLong).unsqueeze(0));
    auto* block = mods["transformer.h.0"]->as<GPT2BlockImpl>();
    auto qkv = block->attn->c_attn(block->ln_1(x));
    q = qkv.narrow(-1, 0, c.hidden_size);
    k = qkv.narrow(-1, c.hidden_size, c.hidden_size);
  }
  auto split = [&](const torch::Tensor& t) { return t.view({T, A, dh}).transpose(0, 1); };
  auto scores = torch::matmul(split(q), split(k).transpose(-1, -2)) / std::sqrt(static_cast<double>(dh));
  if (c.is_gpt2()) scores = scores.masked_fill(torch::ones({T, T}, torch::kBool).triu(1), -1e9);
  return torch::softmax(scores, -1);
}

}  // namespace

TEST(AttentionInit, LayerZeroHeadsAttendAtTheirOffsets) {
  for (const char* name : {"bert-mini", "gpt2-mini"}) {
    auto c = preset(name);
    torch::manual_seed(3);
    auto m = build_model(c, c.is_bert() ? Head::MaskedLanguageModel : Head::LanguageModel);
    init_weights(*m);
    std::map<std::string, torch::Tensor> before;
    for (const auto& kv : m->named_parameters()) before[kv.key()] = kv.value().clone();
    // Before: (almost) uniform attention, the plateau's starting point.
    const int64_t T = 96;
    auto ids = torch::randint(1000, 30000, {1, T}, torch::kLong);
    auto p0 = layer0_probs(*m, c, ids);
    if (c.is_bert()) EXPECT_LT(p0.max().item<double>(), 3.0 / T) << name;

    auto init = init_local_attention(*m, c);
    EXPECT_EQ(init.offsets, local_attention_offsets(c));
    EXPECT_EQ(init.reserved_columns, 34);  // the 17 pairs turning at >= 0.3 rad per position (H = 256)
    auto p = layer0_probs(*m, c, ids);
    const auto& offsets = init.offsets;
    ASSERT_EQ(offsets.size(), 4u);
    for (size_t h = 0; h < offsets.size(); ++h) {
      double mass = 0;
      int64_t hits = 0, n = 0;
      for (int64_t i = 8; i < T - 8; ++i) {
        const int64_t j = i + offsets[h];
        mass += p[static_cast<int64_t>(h)][i][j].item<double>();
        hits += p[static_cast<int64_t>(h)][i].argmax().item<int64_t>() == j;
        ++n;
      }
      // The LayerNorm scales each key by its own 1 / std, so a neighbour with a small word vector
      // can occasionally outscore the target; on average the target carries most of the weight.
      EXPECT_GE(hits, n * 95 / 100) << name << " head " << h << " offset " << offsets[h];
      EXPECT_GT(mass / static_cast<double>(n), 0.6) << name << " head " << h;
    }
    // Untouched: values, later layers; position table = sinusoids; words 0 on the reserved columns.
    auto after = m->named_parameters();
    const int64_t R = init.reserved_columns;
    for (const auto& [key, value] : before) {
      bool changed = !torch::equal(value, after[key]);
      bool may_change = key.find("layer.0.attention.self.query") != std::string::npos ||
                        key.find("layer.0.attention.self.key") != std::string::npos ||
                        key.find("h.0.attn.c_attn") != std::string::npos || key.find("embeddings") != std::string::npos ||
                        key.find(".wte.") != std::string::npos || key.find(".wpe.") != std::string::npos;
      if (!may_change) EXPECT_FALSE(changed) << key;
    }
    auto words = after[c.is_bert() ? "bert.embeddings.word_embeddings.weight" : "transformer.wte.weight"];
    EXPECT_EQ(words.index({Slice(), Slice(0, R)}).abs().max().item<double>(), 0.0);
    EXPECT_TRUE(torch::equal(words.index({Slice(), Slice(R)}),
                             before[c.is_bert() ? "bert.embeddings.word_embeddings.weight" : "transformer.wte.weight"].index({Slice(), Slice(R)})));
    if (c.is_gpt2()) {  // values (the last third of c_attn) keep their initialisation
      auto w = after["transformer.h.0.attn.c_attn.weight"], w0 = before["transformer.h.0.attn.c_attn.weight"];
      EXPECT_TRUE(torch::equal(w.narrow(1, 2 * c.hidden_size, c.hidden_size), w0.narrow(1, 2 * c.hidden_size, c.hidden_size)));
    }
  }
}

TEST(AttentionInit, RejectsShapesWithoutRoomForWords) {
  auto c = preset("bert-mini");
  auto m = build_model(c, Head::MaskedLanguageModel);
  c.num_heads = 2;  // head_dim 128 = half of 256: still fine
  EXPECT_NO_THROW(init_local_attention(*m, c));
  c.num_heads = 1;  // head_dim 256: no columns left for words
  EXPECT_THROW(init_local_attention(*m, c), Error);
  // Hidden 32: only 3 pairs turn at >= 0.3 rad per position (w = 1, 0.56, 0.32), too few to
  // tell a neighbour from the target.
  auto narrow = ModelConfig::from_json(
      [] { auto j = model_preset("bert-mini", 30522); j["hidden_size"] = 32; j["intermediate_size"] = 64; return j; }(), "narrow");
  auto n = build_model(narrow, Head::MaskedLanguageModel);
  try {
    init_local_attention(*n, narrow);
    ADD_FAILURE() << "hidden 32 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hidden size 32 has 3"), std::string::npos) << e.what();
  }
}
