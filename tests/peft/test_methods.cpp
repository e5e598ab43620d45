// Each method freezes exactly what it should, checked against counts computed by hand for the
// fixture models (BERT: H=32, L=2, I=64, 3 labels; GPT-2: H=32, L=2).
#include <gtest/gtest.h>

#include "io/checkpoint.h"
#include "peft/method.h"
#include "test_paths.h"
#include "util/error.h"

using namespace lntune;

namespace {

struct Counts {
  int64_t backbone = 0, head = 0;
};

Counts trainable(TaskModelImpl& m) {
  Counts c;
  for (const auto& p : m.named_parameters())
    if (p.value().requires_grad()) (p.key().rfind(m.backbone_prefix(), 0) == 0 ? c.backbone : c.head) += p.value().numel();
  return c;
}

Counts run(const std::string& model, const std::string& spec, const NormOptions& norm = NormOptions()) {
  auto lm = load_model(test::fixtures() + "/" + model, std::nullopt, norm);
  peft::apply_methods(*lm.model, nlohmann::json::parse(spec), "test.json");
  return trainable(*lm.model);
}

std::string error_of(const std::string& spec) {
  try {
    run("bert_seq_cls", spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Peft, BertCountsByHand) {
  // 5 LayerNorms (embeddings + 2 x (after-MHA, after-FFN)) of 32 gains + 32 biases.
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "ln"})").backbone, 5 * 64);
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "ln", "terms": "gain"})").backbone, 5 * 32);
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "ln", "terms": "bias", "modules": ["mha"]})").backbone, 2 * 32);
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "ln", "modules": ["ffn", "embedding"]})").backbone, 3 * 64);
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "ln", "layers": "1"})").backbone, 2 * 64);
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "ln", "layers": "0-1"})").backbone, 4 * 64);
  // BitFit: embeddings LN bias 32; per layer q,k,v,out 4x32 + LN 32 + intermediate 64 + output 32 + LN 32 = 288;
  // pooler 32.
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "bitfit"})").backbone, 32 + 2 * 288 + 32);
  // full: every backbone parameter; the head (32 x 3 + 3) always trains.
  auto full = run("bert_seq_cls", R"({"name": "full"})");
  EXPECT_EQ(full.backbone, 24416);
  EXPECT_EQ(full.head, 99);
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "ln"})").head, 99);
  // Combinations are the union.
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "bitfit+ln", "ln": {"terms": "gain"}})").backbone, 640 + 5 * 32);
  EXPECT_EQ(run("bert_seq_cls", R"([{"name": "bitfit"}, {"name": "ln"}])").backbone, 640 + 5 * 32);
}

TEST(Peft, Gpt2CountsByHand) {
  // ln_1, ln_2 in 2 blocks + ln_f, 32 + 32 each; the LM head is tied to wte (no separate head).
  EXPECT_EQ(run("gpt2_lm", R"({"name": "ln"})").backbone, 5 * 64);
  EXPECT_EQ(run("gpt2_lm", R"({"name": "ln", "modules": ["ln_f"]})").backbone, 64);
  EXPECT_EQ(run("gpt2_lm", R"({"name": "ln", "modules": ["ln_1"], "layers": "1"})").backbone, 64);
  // BitFit: per block ln_1 32 + c_attn 96 + c_proj 32 + ln_2 32 + c_fc 128 + mlp c_proj 32 = 352; ln_f 32.
  EXPECT_EQ(run("gpt2_lm", R"({"name": "bitfit"})").backbone, 2 * 352 + 32);
}

TEST(Peft, DytTrainsGammaBetaAndAlphaOfEveryDytNorm) {
  auto dyt = NormOptions().type("dyt");
  // 5 norms x (32 gamma + 32 beta + 1 alpha); alpha: false leaves the 5 alphas frozen.
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "dyt"})", dyt).backbone, 5 * 65);
  EXPECT_EQ(run("bert_seq_cls", R"({"name": "dyt", "alpha": false})", dyt).backbone, 5 * 64);
  EXPECT_EQ(run("gpt2_lm", R"({"name": "dyt"})", dyt).backbone, 5 * 65);
  try {
    run("bert_seq_cls", R"({"name": "dyt"})");
    FAIL() << "a LayerNorm model has nothing for dyt to train";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "method.dyt: the model has no DyT norms (set model.norm.type to \"dyt\")");
  }
}

TEST(Peft, BadNamesAndOptionsAreRejected) {
  EXPECT_EQ(error_of(R"({"name": "lorax"})"), "test.json: method.name: unknown PEFT method 'lorax' (known: adapter, bitfit, dyt, fisher_ln, full, ia3, ln, lora, mam, prefix, prompt)");
  EXPECT_EQ(error_of(R"({"name": "ln", "term": "gain"})"), "test.json: method.ln.term: unknown key");
  EXPECT_EQ(error_of(R"({"name": "ln", "terms": "scale"})"), "method.ln.terms: 'scale' (gain, bias, both)");
  // Layers past the fixture's two: a config for a deeper model, not silently a smaller selection.
  EXPECT_EQ(error_of(R"({"name": "ln", "layers": "7-9"})"), "method.ln.layers: layer 9 does not exist (the model has 2 layers, 0-1)");
  EXPECT_EQ(error_of(R"({"name": "ln", "layers": "0-2"})"), "method.ln.layers: layer 2 does not exist (the model has 2 layers, 0-1)");
  EXPECT_EQ(error_of(R"({"name": "ln", "modules": ["embedding"], "layers": "0"})"),
            "method.ln: the modules/layers selection matches no norm of this model");
  EXPECT_EQ(error_of(R"({"name": "ln", "layers": "3-1"})"), "method.ln.layers: layer range '3-1' runs backwards");
  EXPECT_EQ(error_of(R"({"terms": "gain"})").rfind("test.json: method: needs a string 'name'", 0), 0u);
  EXPECT_EQ(error_of(R"({"name": "bitfit+ln", "l": {}})"), "test.json: method.l: unknown key");
  EXPECT_EQ(error_of(R"({"name": "bitfit+ln", "ln": {"terms": 1}})"),
            "test.json: method.ln.terms: has the wrong type: expected string, got number");
  EXPECT_EQ(error_of(R"({"name": "ln+bitfit+ln"})"), "test.json: method.name: 'ln' appears twice in 'ln+bitfit+ln'");
  // Numeric options out of range name their key (LibTorch's own messages would not).
  EXPECT_EQ(error_of(R"({"name": "lora", "dropout": 1.5})"), "method.lora.dropout: must be in [0, 1), got 1.5");
  EXPECT_EQ(error_of(R"({"name": "lora", "dropout": -0.1})"), "method.lora.dropout: must be in [0, 1), got -0.1");
  EXPECT_EQ(error_of(R"({"name": "prefix", "hidden": 0})"),
            "method.prefix.hidden: the reparameterisation MLP's width must be positive, got 0");
  EXPECT_EQ(error_of(R"({"name": "prefix", "hidden": 0, "reparam": false})"), "");  // no MLP, no width
  EXPECT_EQ(error_of(R"({"name": "adapter", "size": -5})"),
            "method.adapter.size: must be positive (or 0: hidden size / reduction_factor), got -5");
  EXPECT_EQ(error_of(R"({"name": "adapter", "reduction_factor": 0})"), "method.adapter.reduction_factor: must be positive, got 0");
  EXPECT_EQ(error_of(R"({"name": "adapter", "reduction_factor": 64})"),
            "method.adapter.reduction_factor: 64 leaves no bottleneck of hidden size 32");
  EXPECT_EQ(error_of(R"({"name": "adapter", "reduction_factor": 0, "size": 4})"), "");  // size wins
}

TEST(Peft, LayerIndexParsing) {
  EXPECT_EQ(peft::layer_index("bert.encoder.layer.11.output.LayerNorm"), 11);
  EXPECT_EQ(peft::layer_index("transformer.h.3.ln_1"), 3);
  EXPECT_EQ(peft::layer_index("bert.embeddings.LayerNorm"), -1);
  EXPECT_EQ(peft::parse_layer_ranges("0-5, 8", "x").size(), 2u);
}
