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
  EXPECT_EQ(error_of(R"({"name": "dyt"})"),
            "test.json: method: dyt trains DyT norms, and the model has none (set model.norm.type to \"dyt\")");
}

TEST(Peft, BadNamesAndOptionsAreRejected) {
  // Every error names the file and the key's path in it: a single method's options sit at
  // "method" itself, an "a+b" part's under "method.<part>", a list entry's at "method[i]".
  EXPECT_EQ(error_of(R"({"name": "lorax"})"), "test.json: method.name: unknown PEFT method 'lorax' (known: adapter, bitfit, dyt, fisher_ln, full, ia3, ln, lora, mam, prefix, prompt)");
  EXPECT_EQ(error_of(R"([{"name": "ln"}, {"name": "lorax"}])").rfind("test.json: method[1].name: unknown PEFT method 'lorax'", 0), 0u);
  EXPECT_EQ(error_of(R"({"name": "ln", "term": "gain"})"), "test.json: method.term: unknown key");
  EXPECT_EQ(error_of(R"([{"name": "bitfit"}, {"name": "ln", "term": "gain"}])"), "test.json: method[1].term: unknown key");
  EXPECT_EQ(error_of(R"({"name": "ln", "terms": "scale"})"), "test.json: method.terms: 'scale' (gain, bias, both)");
  EXPECT_EQ(error_of(R"({"name": "ln", "modules": ["mha", 2]})"), "test.json: method.modules: entries must be strings, got 2");
  EXPECT_EQ(error_of(R"({"name": "ln", "modules": ["attn"]})"),
            "test.json: method.modules: unknown module 'attn' (embedding, mha, ffn, ln_1, ln_2, ln_f)");
  // Layers past the fixture's two: a config for a deeper model, not silently a smaller selection.
  EXPECT_EQ(error_of(R"({"name": "ln", "layers": "7-9"})"), "test.json: method.layers: layer 9 does not exist (the model has 2 layers, 0-1)");
  EXPECT_EQ(error_of(R"({"name": "ln", "layers": "0-2"})"), "test.json: method.layers: layer 2 does not exist (the model has 2 layers, 0-1)");
  EXPECT_EQ(error_of(R"({"name": "ln", "modules": ["embedding"], "layers": "0"})"),
            "test.json: method: the modules/layers selection matches no norm of this model");
  EXPECT_EQ(error_of(R"({"name": "ln", "layers": "3-1"})"), "test.json: method.layers: layer range '3-1' runs backwards");
  EXPECT_EQ(error_of(R"({"name": "ln", "layers": "0-99999999999"})"),
            "test.json: method.layers: bad layer range '0-99999999999' (use e.g. 0-5,8)");  // no std::out_of_range
  EXPECT_EQ(error_of(R"({"name": "fisher_ln", "layers": "x"})"), "test.json: method.layers: bad layer range 'x' (use e.g. 0-5,8)");
  EXPECT_EQ(error_of(R"({"name": "fisher_ln", "top_percent": 0})"), "test.json: method.top_percent: must be in (0, 100], got 0");
  EXPECT_EQ(error_of(R"({"name": "fisher_ln", "samples": 0})"), "test.json: method.samples: must be positive, got 0");
  EXPECT_EQ(error_of(R"({"terms": "gain"})").rfind("test.json: method: needs a string 'name'", 0), 0u);
  EXPECT_EQ(error_of(R"({"name": "bitfit+ln", "l": {}})"), "test.json: method.l: unknown key");
  EXPECT_EQ(error_of(R"({"name": "bitfit+ln", "ln": {"terms": 1}})"),
            "test.json: method.ln.terms: has the wrong type: expected string, got number");
  EXPECT_EQ(error_of(R"({"name": "bitfit+ln", "ln": {"layers": "5"}})"),
            "test.json: method.ln.layers: layer 5 does not exist (the model has 2 layers, 0-1)");
  EXPECT_EQ(error_of(R"([{"name": "bitfit"}, {"name": "prefix+ln", "ln": {"terms": "all"}}])"),
            "test.json: method[1].ln.terms: 'all' (gain, bias, both)");
  EXPECT_EQ(error_of(R"({"name": "ln+bitfit+ln"})"), "test.json: method.name: 'ln' appears twice in 'ln+bitfit+ln'");
  // Numeric options out of range name their key (LibTorch's own messages would not).
  EXPECT_EQ(error_of(R"({"name": "lora", "r": 0})"), "test.json: method.r: must be positive, got 0");
  EXPECT_EQ(error_of(R"({"name": "lora", "r": null})"), "test.json: method.r: has the wrong type: expected number, got null");
  EXPECT_EQ(error_of(R"({"name": "lora", "dropout": 1.5})"), "test.json: method.dropout: must be in [0, 1), got 1.5");
  EXPECT_EQ(error_of(R"({"name": "lora", "dropout": -0.1})"), "test.json: method.dropout: must be in [0, 1), got -0.1");
  EXPECT_EQ(error_of(R"({"name": "lora", "targets": [1]})"), "test.json: method.targets: entries must be strings (module names), got 1");
  EXPECT_EQ(error_of(R"({"name": "prefix", "length": -1})"), "test.json: method.length: must be >= 0, got -1");
  EXPECT_EQ(error_of(R"({"name": "prefix", "hidden": 0})"),
            "test.json: method.hidden: the reparameterisation MLP's width must be positive, got 0");
  EXPECT_EQ(error_of(R"({"name": "prefix", "hidden": 0, "reparam": false})"), "");  // no MLP, no width
  EXPECT_EQ(error_of(R"({"name": "prefix", "positions": "zero"})"),
            "test.json: method.positions: 'zero' is not one of from_zero, shifted");
  EXPECT_EQ(error_of(R"({"name": "prompt", "length": 0})"), "test.json: method.length: must be positive, got 0");
  EXPECT_EQ(error_of(R"({"name": "prompt", "init": "text"})"), "test.json: method.init: 'text' (vocab, random)");
  EXPECT_EQ(error_of(R"({"name": "adapter", "type": "serial"})"), "test.json: method.type: 'serial' (houlsby, pfeiffer, parallel)");
  EXPECT_EQ(error_of(R"({"name": "adapter", "act": "silu"})"), "test.json: method.act: 'silu' (relu, gelu, tanh)");
  EXPECT_EQ(error_of(R"({"name": "adapter", "size": -5})"),
            "test.json: method.size: must be positive (or 0: hidden size / reduction_factor), got -5");
  EXPECT_EQ(error_of(R"({"name": "adapter", "reduction_factor": 0})"), "test.json: method.reduction_factor: must be positive, got 0");
  EXPECT_EQ(error_of(R"({"name": "adapter", "reduction_factor": 64})"),
            "test.json: method.reduction_factor: 64 leaves no bottleneck of hidden size 32");
  EXPECT_EQ(error_of(R"({"name": "adapter", "reduction_factor": 0, "size": 4})"), "");  // size wins
  // mam's parts: their options sit under "prefix" / "adapter".
  EXPECT_EQ(error_of(R"({"name": "mam", "prefix": {"length": -2}})"), "test.json: method.prefix.length: must be >= 0, got -2");
  EXPECT_EQ(error_of(R"({"name": "mam", "adapter": {"reduction_factor": 64}})"),
            "test.json: method.adapter.reduction_factor: 64 leaves no bottleneck of hidden size 32");
  EXPECT_EQ(error_of(R"({"name": "mam+ln", "mam": {"adapter": {"act": "elu"}}})"),
            "test.json: method.mam.adapter.act: 'elu' (relu, gelu, tanh)");
}

// What needs no model is checked by resolve_methods, before a run loads anything.
TEST(Peft, OptionValuesAreCheckedWithoutAModel) {
  auto error = [](const std::string& spec) {
    try {
      peft::resolve_methods(nlohmann::json::parse(spec), "run.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error(R"({"name": "lora", "r": -4})"), "run.json: method.r: must be positive, got -4");
  EXPECT_EQ(error(R"({"name": "mam", "prefix": {"positions": "late"}})"),
            "run.json: method.prefix.positions: 'late' is not one of from_zero, shifted");
  EXPECT_EQ(error(R"({"name": "ln", "layers": "0-"})"), "run.json: method.layers: bad layer range '0-' (use e.g. 0-5,8)");
  EXPECT_EQ(error(R"({"name": "ln", "layers": "0-40"})"), "");  // the model's depth is apply()'s to check
  auto specs = peft::resolve_methods(nlohmann::json::parse(R"([{"name": "bitfit"}, {"name": "prefix+ln", "ln": {"terms": "bias"}}])"), "x");
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].path, "method[0]");
  EXPECT_EQ(specs[1].path, "method[1].prefix");
  EXPECT_EQ(specs[2].path, "method[1].ln");
  EXPECT_EQ(specs[2].options["terms"], "bias");
  EXPECT_EQ(specs[2].options["modules"], nlohmann::json::array());
}

TEST(Peft, LayerIndexParsing) {
  EXPECT_EQ(peft::layer_index("bert.encoder.layer.11.output.LayerNorm"), 11);
  EXPECT_EQ(peft::layer_index("transformer.h.3.ln_1"), 3);
  EXPECT_EQ(peft::layer_index("bert.embeddings.LayerNorm"), -1);
  EXPECT_EQ(peft::parse_layer_ranges("0-5, 8", "x").size(), 2u);
}
