// IA3: which projections HF PEFT's defaults scale (counts by hand), the model unchanged at init,
// the scaled model against one whose checkpoint weights are scaled by hand as PEFT defines IA3
// (outputs: W's rows and the bias; feed-forward inputs: W's columns), merge == unmerged,
// unmerge restores, and bad options.
#include <gtest/gtest.h>

#include <map>

#include "io/checkpoint.h"
#include "models/extensions.h"
#include "peft/method.h"
#include "test_paths.h"
#include "util/error.h"
#include "util/strings.h"

using namespace lntune;

namespace {

std::shared_ptr<TaskModelImpl> model_with(const std::string& fixture, const std::string& spec) {
  auto lm = load_model(test::fixtures() + "/" + fixture);
  if (spec.empty()) {
    for (auto& p : lm.model->parameters()) p.set_requires_grad(false);
  } else {
    peft::apply_methods(*lm.model, nlohmann::json::parse(spec), "test.json");
  }
  lm.model->eval();
  return lm.model;
}

Batch batch() {
  auto ids = torch::tensor({{2, 40, 41, 42, 43, 3, 0, 0}, {2, 44, 45, 46, 47, 48, 49, 3}}, torch::kLong);
  return {ids, (ids != 0).to(torch::kLong), {}};
}

torch::Tensor logits(TaskModelImpl& m) {
  torch::NoGradGuard g;
  return m.forward(batch()).logits;
}

// name -> shape of every IA3 vector.
std::map<std::string, std::vector<int64_t>> vectors(TaskModelImpl& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : m.named_parameters())
    if (ends_with(p.key(), ".ia3_l")) {
      EXPECT_TRUE(p.value().requires_grad()) << p.key();
      out[p.key()] = p.value().sizes().vec();
    }
  return out;
}

std::string error_of(const std::string& fixture, const std::string& spec) {
  try {
    model_with(fixture, spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

// HF PEFT's defaults: BERT key, value and "output.dense", whose suffix rule takes both the
// attention's output projection and the FFN's, and both as feed-forward (input scaled); GPT-2
// c_attn (q, k and v) and mlp.c_proj, not attn.c_proj. Fixtures: H 32, FFN 64 (BERT) / 128 (GPT-2).
TEST(Ia3, PeftDefaultTargetsCountedByHand) {
  auto bert = model_with("bert_seq_cls", R"({"name": "ia3"})");
  auto v = vectors(*bert);
  const std::string l0 = "bert.encoder.layer.0.";
  EXPECT_EQ(v.size(), 8u);
  EXPECT_EQ(v.at(l0 + "attention.self.key.ia3_l"), (std::vector<int64_t>{32, 1}));
  EXPECT_EQ(v.at(l0 + "attention.self.value.ia3_l"), (std::vector<int64_t>{32, 1}));
  EXPECT_EQ(v.at(l0 + "attention.output.dense.ia3_l"), (std::vector<int64_t>{1, 32}));
  EXPECT_EQ(v.at(l0 + "output.dense.ia3_l"), (std::vector<int64_t>{1, 64}));
  EXPECT_FALSE(v.count(l0 + "attention.self.query.ia3_l"));
  EXPECT_FALSE(v.count(l0 + "intermediate.dense.ia3_l"));

  auto gpt2 = model_with("gpt2_lm", R"({"name": "ia3"})");
  auto g = vectors(*gpt2);
  EXPECT_EQ(g.size(), 4u);
  EXPECT_EQ(g.at("transformer.h.1.attn.c_attn.ia3_l"), (std::vector<int64_t>{96, 1}));
  EXPECT_EQ(g.at("transformer.h.1.mlp.c_proj.ia3_l"), (std::vector<int64_t>{1, 128}));
  EXPECT_FALSE(g.count("transformer.h.1.attn.c_proj.ia3_l"));

  // No feed-forward targets: every target scales its output ([out, 1]).
  auto out_only = vectors(*model_with("bert_seq_cls", R"({"name": "ia3", "feedforward": []})"));
  EXPECT_EQ(out_only.at(l0 + "output.dense.ia3_l"), (std::vector<int64_t>{32, 1}));
  // Targets by suffix: only the attention's output projection.
  auto attn_out = vectors(*model_with("bert_seq_cls", R"({"name": "ia3", "targets": ["attention.output.dense"]})"));
  EXPECT_EQ(attn_out.size(), 2u);
  EXPECT_EQ(attn_out.at(l0 + "attention.output.dense.ia3_l"), (std::vector<int64_t>{1, 32}));
}

TEST(Ia3, UnchangedAtInit) {
  for (const char* fixture : {"bert_seq_cls", "gpt2_lm"}) {
    auto base = model_with(fixture, "");
    auto s = model_with(fixture, R"({"name": "ia3"})");
    EXPECT_TRUE(torch::equal(logits(*s), logits(*base))) << fixture;  // ones: x * 1 and y * 1 are exact
  }
}

// The reference: the base checkpoint with its weights scaled by hand, in the checkpoint's own
// layouts (nn.Linear [out, in]; GPT-2's Conv1D [in, out]). The last case scales one input of
// BERT's query/key/value, which otherwise run as one product (models/projection_group.h).
TEST(Ia3, ScalesWhatPeftScales) {
  for (auto [fixture, spec] : {std::pair<std::string, std::string>{"bert_seq_cls", R"({"name": "ia3"})"},
                               {"gpt2_lm", R"({"name": "ia3"})"},
                               {"bert_seq_cls", R"({"name": "ia3", "targets": ["query", "key", "value"], "feedforward": ["key"]})"}}) {
    SCOPED_TRACE(fixture + " " + spec);
    auto s = model_with(fixture, spec);
    auto ref = model_with(fixture, "");
    const bool conv1d = fixture == "gpt2_lm";
    auto ref_params = ref->named_parameters();
    torch::NoGradGuard g;
    torch::manual_seed(5);
    int scaled = 0;
    for (auto& p : s->named_parameters()) {
      if (!ends_with(p.key(), ".ia3_l")) continue;
      p.value().normal_(1.0, 0.3);
      const std::string proj = p.key().substr(0, p.key().size() - 6);
      auto l = p.value().flatten();
      auto& w = ref_params[proj + ".weight"];
      const bool input = p.value().size(0) == 1;  // [1, in]: feed-forward
      if (input) {  // W (x * l): the columns that read x
        w.mul_(conv1d ? l.unsqueeze(1) : l.unsqueeze(0));
      } else {      // (W x + b) * l: the rows that write y, and the bias
        w.mul_(conv1d ? l.unsqueeze(0) : l.unsqueeze(1));
        ref_params[proj + ".bias"].mul_(l);
      }
      ++scaled;
    }
    EXPECT_GT(scaled, 0);
    auto got = logits(*s), want = logits(*ref);
    EXPECT_FALSE(torch::allclose(got, logits(*model_with(fixture, "")), 1e-3, 1e-3)) << "the scales must matter";
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << (got - want).abs().max();
  }
}

TEST(Ia3, MergedEqualsUnmergedAndUnmergeRestores) {
  for (const char* fixture : {"bert_seq_cls", "gpt2_lm"}) {
    SCOPED_TRACE(fixture);
    auto s = model_with(fixture, R"({"name": "ia3", "targets": ["query", "key", "value", "dense", "c_attn", "c_fc", "c_proj"]})");
    {
      torch::NoGradGuard g;
      torch::manual_seed(7);
      for (auto& p : s->named_parameters())
        if (ends_with(p.key(), ".ia3_l")) p.value().normal_(1.0, 0.3);
    }
    std::map<std::string, torch::Tensor> before;
    std::set<std::string> vectors;
    for (const auto& p : s->named_parameters()) {
      before[p.key()] = p.value().clone();
      if (ends_with(p.key(), ".ia3_l")) vectors.insert(p.key());
    }
    auto unmerged = logits(*s);
    const peft::Merged report = peft::merge_all(*s);
    EXPECT_EQ(report.keys, vectors);
    EXPECT_EQ(report.projections, (std::map<std::string, int64_t>{{"ia3", static_cast<int64_t>(vectors.size())}}));
    auto merged = logits(*s);
    EXPECT_TRUE(torch::allclose(merged, unmerged, 1e-5, 1e-5)) << (merged - unmerged).abs().max();
    int changed = 0;
    for (const auto& p : s->named_parameters()) changed += !torch::equal(p.value(), before[p.key()]);
    EXPECT_GT(changed, 0) << "merging must move the scales into the weights";
    peft::unmerge_all(*s);
    for (const auto& p : s->named_parameters())
      EXPECT_TRUE(torch::allclose(p.value(), before[p.key()], 1e-6, 1e-6)) << p.key();
    EXPECT_TRUE(torch::allclose(logits(*s), unmerged, 1e-6, 1e-6));
  }
}

// Training reaches the vectors: a loss's gradient flows to every one of them, and to nothing of
// the backbone besides.
TEST(Ia3, GradientsReachEveryVectorAndNoOtherBackboneTensor) {
  auto s = model_with("bert_seq_cls", R"({"name": "ia3"})");
  s->train();
  torch::cross_entropy_loss(s->forward(batch()).logits, torch::tensor({0, 2}, torch::kLong)).backward();
  for (const auto& p : s->named_parameters()) {
    const bool ia3 = ends_with(p.key(), ".ia3_l"), backbone = starts_with(p.key(), s->backbone_prefix());
    if (ia3) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
    } else if (backbone) {
      EXPECT_FALSE(p.value().requires_grad()) << p.key();
    }
  }
}

TEST(Ia3, BadOptionsAreOneLineErrors) {
  // Each names the file and the key's path in it (the method's options sit at "method" itself).
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "ia3", "feedforward": ["query"]})"),
            "test.json: method.feedforward: 'query' names none of the scaled projections");
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "ia3", "feedforward": "output.dense"})"),
            "test.json: method.feedforward: must be null (the architecture's defaults) or a list of names, got \"output.dense\"");
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "ia3", "feedforward": [3]})"),
            "test.json: method.feedforward: entries must be strings (module names), got 3");
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "ia3", "targets": ["value", null]})"),
            "test.json: method.targets: entries must be strings (module names), got null");
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "ia3", "targets": ["c_attn"]})"),
            "test.json: method.targets: no projection of this model is named like the targets");
  EXPECT_EQ(error_of("bert_seq_cls", R"([{"name": "lora"}, {"name": "ia3"}])"),
            "test.json: method[1].targets: bert.encoder.layer.0.attention.self.value is already wrapped by lora (one method per "
            "projection: give the methods different targets)");
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "lora+ia3"})"),
            "test.json: method.ia3.targets: bert.encoder.layer.0.attention.self.value is already wrapped by lora (one method per "
            "projection: give the methods different targets)");
  EXPECT_EQ(error_of("bert_seq_cls", R"([{"name": "lora"}, {"name": "ia3", "targets": ["key"], "feedforward": []}])"), "(no error)");
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "ia3", "scale": 2})"), "test.json: method.scale: unknown key");
  EXPECT_EQ(error_of("bert_seq_cls", R"({"name": "ia3", "feedforward": null})"), "(no error)");  // nullable: the defaults
}

// LoRA's targets follow the same rule as IA3's (PEFT's): a name or a dotted suffix.
TEST(Ia3, LoraTargetsBySuffixToo) {
  auto count = [](const std::string& spec) {
    int n = 0;
    for (const auto& p : model_with("bert_seq_cls", spec)->named_parameters()) n += ends_with(p.key(), ".lora_A.weight");
    return n;
  };
  EXPECT_EQ(count(R"({"name": "lora", "targets": ["dense"]})"), 6);  // attention output, intermediate, output x 2 layers
  EXPECT_EQ(count(R"({"name": "lora", "targets": ["output.dense"]})"), 4);
  EXPECT_EQ(count(R"({"name": "lora", "targets": ["attention.output.dense"]})"), 2);
  EXPECT_EQ(count(R"({"name": "lora", "targets": ["layer.1.attention.output.dense"]})"), 1);
  EXPECT_EQ(count(R"({"name": "lora", "targets": ["put.dense", "query"]})"), 2);  // a suffix only at a dot
}
