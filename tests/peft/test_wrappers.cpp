// LoRA, adapters and prefixes: counts by hand, exact behaviour at init, merge == unmerged,
// zero-length prefix == base model, masks and causality kept with a prefix.
#include <gtest/gtest.h>

#include "io/checkpoint.h"
#include "models/extensions.h"
#include "peft/method.h"
#include "test_paths.h"
#include "train/op_count.h"

using namespace lntune;

namespace {

struct Setup {
  std::shared_ptr<TaskModelImpl> model;
  Batch batch;
};

// The model with the methods of `spec` applied; without any, the base model frozen, as a method
// leaves it (frozen projections run as packed products, models/projection_group.h, whose rounding
// differs from separate ones: the exact identities below compare like with like).
Setup with(const std::string& model, const std::string& spec) {
  auto lm = load_model(test::fixtures() + "/" + model);
  if (!spec.empty()) peft::apply_methods(*lm.model, nlohmann::json::parse(spec), "test.json");
  if (spec.empty())
    for (auto& p : lm.model->parameters()) p.set_requires_grad(false);
  lm.model->eval();
  auto ids = torch::tensor({{2, 40, 41, 42, 43, 3, 0, 0}, {2, 44, 45, 46, 47, 48, 49, 3}}, torch::kLong);
  auto mask = (ids != 0).to(torch::kLong);
  return {lm.model, {ids, mask, {}}};
}

torch::Tensor logits(Setup& s) {
  torch::NoGradGuard g;
  return s.model->forward(s.batch).logits;
}

int64_t trainable_backbone(TaskModelImpl& m) {
  int64_t n = 0;
  for (const auto& p : m.named_parameters())
    if (p.value().requires_grad() && p.key().rfind(m.backbone_prefix(), 0) == 0) n += p.value().numel();
  return n;
}

void perturb(TaskModelImpl& m, const std::string& needle) {
  torch::NoGradGuard g;
  torch::manual_seed(3);
  for (auto& p : m.named_parameters())
    if (p.key().find(needle) != std::string::npos) p.value().normal_(0, 0.5);
}

}  // namespace

TEST(Lora, CountsAndIdentityAtInit) {
  auto base = with("bert_seq_cls", "");
  auto s = with("bert_seq_cls", R"({"name": "lora"})");
  // query + value in 2 layers, r = 8: 8 * (32 + 32) each.
  EXPECT_EQ(trainable_backbone(*s.model), 4 * 8 * 64);
  EXPECT_TRUE(torch::allclose(logits(s), logits(base), 0, 0));  // B = 0
  auto g = with("gpt2_lm", R"({"name": "lora", "r": 4})");
  EXPECT_EQ(trainable_backbone(*g.model), 2 * 4 * (32 + 96));  // c_attn, Conv1D 32 -> 96
  auto names = g.model->named_parameters().keys();
  EXPECT_NE(std::find(names.begin(), names.end(), "transformer.h.0.attn.c_attn.lora_A.weight"), names.end());
}

TEST(Lora, MergedEqualsUnmergedAndUnmergeRestores) {
  for (const char* model : {"bert_seq_cls", "gpt2_lm"}) {
    auto s = with(model, R"({"name": "lora", "targets": ["query", "value", "dense", "c_attn", "c_fc"]})");
    perturb(*s.model, "lora_B");
    std::map<std::string, torch::Tensor> before;
    for (const auto& p : s.model->named_parameters()) before[p.key()] = p.value().clone();
    auto unmerged = logits(s);
    std::set<std::string> lora_keys;
    for (const auto& p : s.model->named_parameters())
      if (p.key().find(".lora_A.") != std::string::npos || p.key().find(".lora_B.") != std::string::npos) lora_keys.insert(p.key());
    const peft::Merged report = peft::merge_all(*s.model);
    // It names exactly the folded tensors (lora_dropout has none), two per wrapped projection.
    EXPECT_EQ(report.keys, lora_keys) << model;
    EXPECT_EQ(report.projections, (std::map<std::string, int64_t>{{"lora", static_cast<int64_t>(lora_keys.size() / 2)}})) << model;
    EXPECT_GE(lora_keys.size(), 8u) << model;
    auto merged = logits(s);
    EXPECT_TRUE(torch::allclose(merged, unmerged, 1e-5, 1e-5)) << model << " " << (merged - unmerged).abs().max();
    // Merging really changed the base weights (the outputs agree because the delta moved in).
    bool changed = false;
    for (const auto& p : s.model->named_parameters())
      if (p.key().find("lora_") == std::string::npos) changed |= !torch::equal(p.value(), before[p.key()]);
    EXPECT_TRUE(changed) << model;
    peft::unmerge_all(*s.model);
    for (const auto& p : s.model->named_parameters())
      EXPECT_TRUE(torch::allclose(p.value(), before[p.key()], 1e-6, 1e-6)) << p.key();
    EXPECT_TRUE(torch::allclose(logits(s), unmerged, 1e-6, 1e-6));
  }
}

// What a wrapper adds to a forward pass, in operators (about one kernel launch each on a GPU,
// where a PEFT step is mostly per-operator host cost): LoRA's A product and B's addmm (scale and
// addition folded in; dropout 0 is none), IA3's multiply (views are no operator), a bottleneck adapter's down, activation, up and the
// scaled addition; a prefix's encoder once per pass (linear, tanh, linear), its keys and values
// joined to each layer's (two cats), the padding mask widened once (zeros, cat).
TEST(Wrappers, OperatorsEachAddsToAForwardPass) {
  auto forward_ops = [](::Setup s) {
    logits(s);  // the first pass packs the frozen projections (once)
    return count_ops([&] { logits(s); });
  };
  auto base = forward_ops(with("bert_seq_cls", ""));
  EXPECT_EQ(forward_ops(with("bert_seq_cls", R"({"name": "lora"})")) - base, 2 * 4);     // query, value x 2 layers
  EXPECT_EQ(forward_ops(with("bert_seq_cls", R"({"name": "adapter"})")) - base, 4 * 4);  // 2 per layer
  EXPECT_EQ(forward_ops(with("bert_seq_cls", R"({"name": "prefix", "length": 3, "hidden": 16})")) - base,
            3 + 2 * 2 + 2);
  EXPECT_EQ(forward_ops(with("bert_seq_cls", R"({"name": "ia3"})")) - base, 4 * 2);  // a multiply per scaled projection
  auto g = forward_ops(with("gpt2_lm", ""));
  EXPECT_EQ(forward_ops(with("gpt2_lm", R"({"name": "lora", "r": 4})")) - g, 2 * 2);  // c_attn x 2 layers
  EXPECT_EQ(forward_ops(with("gpt2_lm", R"({"name": "ia3"})")) - g, 2 * 2);
}

TEST(Adapter, CountsAndExactIdentityAtInit) {
  auto base = with("bert_seq_cls", "");
  // size = 32 / 16 = 2: down 32*2 + 2, up 2*32 + 32 = 162 per adapter.
  auto h = with("bert_seq_cls", R"({"name": "adapter"})");
  EXPECT_EQ(trainable_backbone(*h.model), 4 * 162);  // after MHA and FFN in 2 layers
  EXPECT_TRUE(torch::allclose(logits(h), logits(base), 0, 0));
  EXPECT_EQ(trainable_backbone(*with("bert_seq_cls", R"({"name": "adapter", "type": "pfeiffer"})").model), 2 * 162);
  auto par = with("bert_seq_cls", R"({"name": "adapter", "type": "parallel", "size": 4, "scaling": 4.0})");
  EXPECT_EQ(trainable_backbone(*par.model), 2 * (32 * 4 + 4 + 4 * 32 + 32));
  perturb(*par.model, "adapter.up");
  EXPECT_FALSE(torch::allclose(logits(par), logits(base)));
  auto g = with("gpt2_lm", R"({"name": "adapter"})");
  EXPECT_EQ(trainable_backbone(*g.model), 4 * 162);
  EXPECT_EQ(trainable_backbone(*with("bert_seq_cls", R"({"name": "adapter+ln"})").model), 4 * 162 + 5 * 64);
}

TEST(Prefix, ZeroLengthIsTheBaseModelAndCountsByHand) {
  auto base = with("bert_seq_cls", "");
  auto zero = with("bert_seq_cls", R"({"name": "prefix", "length": 0, "reparam": false})");
  EXPECT_TRUE(torch::allclose(logits(zero), logits(base), 0, 0));
  auto p = with("bert_seq_cls", R"({"name": "prefix", "length": 3, "reparam": false})");
  EXPECT_EQ(trainable_backbone(*p.model), 3 * 2 * 2 * 32);  // P x layers x (k, v) x H
  EXPECT_FALSE(torch::allclose(logits(p), logits(base)));
  // Reparameterised: embedding P x H + MLP H -> 16 -> L*2*H.
  auto r = with("bert_seq_cls", R"({"name": "prefix", "length": 3, "hidden": 16})");
  EXPECT_EQ(trainable_backbone(*r.model), 3 * 32 + (32 * 16 + 16) + (16 * 128 + 128));
  EXPECT_EQ(trainable_backbone(*with("bert_seq_cls", R"({"name": "prefix+ln", "prefix": {"length": 3, "reparam": false}})").model),
            384 + 320);
}

// positions "shifted": the tokens' positions start at the prefix length, as in HF models fed
// PEFT's prefixes as past_key_values. Same as positions from 0 over a position table moved up by P
// rows; not the same as positions from 0 over the original table; past the table is an error.
TEST(Prefix, ShiftedPositionsStartAtThePrefixLength) {
  for (auto [fixture, table] : {std::pair<std::string, std::string>{"bert_seq_cls", "embeddings.position_embeddings.weight"},
                                {"gpt2_lm", "transformer.wpe.weight"}}) {
    SCOPED_TRACE(fixture);
    const int64_t P = 3;
    auto shifted = with(fixture, R"({"name": "prefix", "length": 3, "reparam": false, "positions": "shifted"})");
    auto zero = with(fixture, R"({"name": "prefix", "length": 3, "reparam": false})");
    {
      torch::NoGradGuard g;
      parameter_ending(*zero.model, "prefix_encoder.prefix").copy_(parameter_ending(*shifted.model, "prefix_encoder.prefix"));
    }
    EXPECT_FALSE(torch::allclose(logits(zero), logits(shifted)));
    {
      torch::NoGradGuard g;
      auto w = parameter_ending(*zero.model, table);
      const int64_t n = w.size(0);
      w.narrow(0, 0, n - P).copy_(w.narrow(0, P, n - P).clone());
    }
    EXPECT_TRUE(torch::allclose(logits(zero), logits(shifted), 1e-6, 1e-6));
    auto near_end = with(fixture, R"({"name": "prefix", "length": 60, "reparam": false, "positions": "shifted"})");
    try {
      logits(near_end);
      ADD_FAILURE() << "expected an error: 8 tokens after 60 prefix positions exceed 64";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what()).find("after 60 prefix positions"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(with("bert_seq_cls", R"({"name": "prefix", "positions": "last"})"), std::exception);
}

TEST(Mam, IsPrefixPlusParallelAdapter) {
  auto m = with("bert_seq_cls", R"({"name": "mam", "prefix": {"length": 3, "reparam": false}, "adapter": {"size": 4}})");
  // prefix 3 x 2 layers x 2 x 32 = 384; parallel FFN adapter per layer 32*4 + 4 + 4*32 + 32 = 292.
  EXPECT_EQ(trainable_backbone(*m.model), 384 + 2 * 292);
}

TEST(Prefix, PaddingStaysInvisibleAndGpt2StaysCausal) {
  auto p = with("bert_seq_cls", R"({"name": "prefix", "length": 4, "reparam": false})");
  torch::NoGradGuard g;
  auto ids = torch::tensor({{2, 40, 41, 3}}, torch::kLong);
  auto a = p.model->forward({ids, torch::ones_like(ids), {}}).logits;
  auto padded = torch::tensor({{2, 40, 41, 3, 0, 0}}, torch::kLong);
  auto b = p.model->forward({padded, (padded != 0).to(torch::kLong), {}}).logits;
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6));
  auto q = with("gpt2_lm", R"({"name": "prefix", "length": 4, "reparam": false})");
  auto h1 = q.model->forward({torch::tensor({{5, 6, 7, 8}}, torch::kLong), {}, {}}).last_hidden_state;
  auto h2 = q.model->forward({torch::tensor({{5, 6, 7, 99}}, torch::kLong), {}, {}}).last_hidden_state;
  EXPECT_TRUE(torch::allclose(h1.narrow(1, 0, 3), h2.narrow(1, 0, 3), 1e-6, 1e-6));
  auto base = with("gpt2_lm", "");
  auto h0 = base.model->forward({torch::tensor({{5, 6, 7, 8}}, torch::kLong), {}, {}}).last_hidden_state;
  EXPECT_FALSE(torch::allclose(h0, h1));  // the prefix is seen from the first position on
}

TEST(FisherLn, KeepsTheTopKOfAKnownFisherAndMasksTheRest) {
  // Synthetic case: the loss of every sample is sum(c * p) over the 5 x 64 LN elements, so each
  // element's empirical Fisher is samples * c^2. With c = its index + 1 (in find_norms order),
  // the top 10% (32 elements) are the last 32: the last norm's bias.
  auto s = with("bert_seq_cls", R"({"name": "fisher_ln", "top_percent": 10, "samples": 3})");
  std::vector<torch::Tensor> params;
  for (const auto& n : find_norms(*s.model))
    for (const auto& p : n.module->named_parameters(false)) params.push_back(p.value());
  ASSERT_EQ(params.size(), 10u);
  auto coef = torch::arange(1, 5 * 64 + 1, torch::kFloat);
  auto loss = [&](int64_t) {
    std::vector<torch::Tensor> flat;
    for (auto& p : params) flat.push_back(p.flatten());
    return (torch::cat(flat) * coef).sum();
  };
  auto applied = peft::apply_methods(*s.model, nlohmann::json::parse(R"({"name": "fisher_ln", "top_percent": 10, "samples": 3})"), "t");
  applied.methods[0]->prepare(*s.model, loss, 100);
  // One backward of the same loss, masked: only the last norm's bias keeps its gradient.
  s.model->zero_grad();
  loss(0).backward();
  applied.methods[0]->after_backward(*s.model);
  for (size_t i = 0; i < params.size(); ++i) {
    auto g = params[i].grad();
    if (i == 9) EXPECT_TRUE(torch::equal(g, coef.narrow(0, 9 * 32, 32))) << i;
    else EXPECT_EQ(g.abs().sum().item<float>(), 0.0f) << i;
  }
  // Selections follow `ln`: gains only -> the top 10% of 160 gain elements = 16 of the last gain.
  auto gains = peft::apply_methods(*s.model, nlohmann::json::parse(R"({"name": "fisher_ln", "terms": "gain"})"), "t");
  int64_t trainable = 0;
  for (const auto& p : s.model->named_parameters())
    if (p.value().requires_grad() && p.key().rfind("bert.", 0) == 0) trainable += p.value().numel();
  EXPECT_EQ(trainable, 5 * 32);
}

TEST(Prompt, CountsMaskingAndHeads) {
  auto p = with("bert_seq_cls", R"({"name": "prompt", "length": 5})");
  EXPECT_EQ(trainable_backbone(*p.model), 5 * 32);
  torch::NoGradGuard g;
  // Padding stays invisible with the prompt in front.
  auto ids = torch::tensor({{2, 40, 41, 3}}, torch::kLong);
  auto a = p.model->forward({ids, torch::ones_like(ids), {}});
  auto padded = torch::tensor({{2, 40, 41, 3, 0, 0}}, torch::kLong);
  auto b = p.model->forward({padded, (padded != 0).to(torch::kLong), {}});
  EXPECT_TRUE(torch::allclose(a.logits, b.logits, 1e-5, 1e-6));
  EXPECT_EQ(a.last_hidden_state.size(1), 5 + 4);  // virtual tokens included in the hidden states
  // GPT-2: the LM head reads real positions only, and causality holds.
  auto q = with("gpt2_lm", R"({"name": "prompt", "length": 3, "init": "random"})");
  auto o1 = q.model->forward({torch::tensor({{5, 6, 7, 8}}, torch::kLong), {}, {}});
  auto o2 = q.model->forward({torch::tensor({{5, 6, 7, 99}}, torch::kLong), {}, {}});
  EXPECT_EQ(o1.logits.size(1), 4);
  EXPECT_TRUE(torch::allclose(o1.logits.narrow(1, 0, 3), o2.logits.narrow(1, 0, 3), 1e-5, 1e-6));
  EXPECT_EQ(trainable_backbone(*q.model), 3 * 32);
}
