// HF PEFT export: adapter_config.json fields and adapter_model.safetensors key names as HF PEFT
// saves them (get_peft_model_state_dict: "base_model.model." + module path, adapter name
// removed; LoRA "lora_A/lora_B.weight", IA3 "ia3_l", LN_TUNING "ln_tuning_layers.weight", prompt learning
// "prompt_embeddings"), values equal to the model's, the task head and pooler as modules_to_save.
// Python PEFT loading these folders is checked on the GPU machine (scripts/check_peft_export.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "io/checkpoint.h"
#include "io/state_dict.h"
#include "models/bert.h"
#include "peft/method.h"
#include "test_paths.h"
#include "util/file.h"

using namespace lntune;

namespace {
struct Exported {
  bool ok = false;
  std::string why;
  nlohmann::json config;
  std::map<std::string, torch::Tensor> tensors;
  std::shared_ptr<TaskModelImpl> model;
};

Exported export_of(const std::string& fixture, const std::string& spec) {
  Exported e;
  auto lm = load_model(test::fixtures() + "/" + fixture);
  auto applied = peft::apply_methods(*lm.model, nlohmann::json::parse(spec), "test.json");
  {
    torch::NoGradGuard g;  // trained-looking values, so a wrong tensor cannot match by accident
    for (auto& p : lm.model->parameters())
      if (p.requires_grad()) p.add_(torch::randn_like(p) * 0.1);
  }
  std::string dir = std::filesystem::temp_directory_path() / ("lntune_peft_" + std::to_string(::getpid()));
  remove_tree(dir);
  e.ok = peft::export_peft_adapter(*lm.model, applied, "base/model", dir, e.why);
  e.model = lm.model;
  if (!e.ok) return e;
  e.config = nlohmann::json::parse(read_file(dir + "/adapter_config.json"));
  for (auto& [k, v] : read_safetensors(dir + "/adapter_model.safetensors").tensors) e.tensors[k] = v;
  return e;
}

std::set<std::string> keys(const Exported& e) {
  std::set<std::string> k;
  for (const auto& [n, _] : e.tensors) k.insert(n);
  return k;
}

// saved_as: PeftModel's name for the transformers model — "base_model.model." under a tuner
// (LoRA, LN), "base_model." under prompt learning (prefix, prompt), as PEFT looks them up.
void expect_head_and_pooler(const Exported& e, const std::string& saved_as = "base_model.model.") {
  auto params = e.model->named_parameters();
  for (const char* k : {"classifier.weight", "classifier.bias", "bert.pooler.dense.weight", "bert.pooler.dense.bias"}) {
    ASSERT_TRUE(e.tensors.count(saved_as + k)) << k;
    EXPECT_TRUE(torch::equal(e.tensors.at(saved_as + k), params[k])) << k;
  }
  EXPECT_EQ(e.config["modules_to_save"], nlohmann::json({"classifier", "pooler"}));
  EXPECT_EQ(e.config["task_type"], "SEQ_CLS");
  EXPECT_EQ(e.config["base_model_name_or_path"], "base/model");
}
}  // namespace

TEST(PeftExport, LoraKeysAndValues) {
  auto e = export_of("bert_seq_cls", R"({"name": "lora", "r": 4, "alpha": 8})");
  ASSERT_TRUE(e.ok) << e.why;
  EXPECT_EQ(e.config["peft_type"], "LORA");
  EXPECT_EQ(e.config["r"], 4);
  EXPECT_EQ(e.config["lora_alpha"], 8.0);
  EXPECT_EQ(e.config["target_modules"], nlohmann::json({"query", "value"}));
  EXPECT_EQ(e.config["fan_in_fan_out"], false);
  auto params = e.model->named_parameters();
  int lora = 0;
  for (int l = 0; l < 2; ++l)
    for (const char* proj : {"query", "value"})
      for (const char* ab : {"lora_A", "lora_B"}) {
        std::string name = "bert.encoder.layer." + std::to_string(l) + ".attention.self." + proj + "." + ab + ".weight";
        ASSERT_TRUE(e.tensors.count("base_model.model." + name)) << name;
        EXPECT_TRUE(torch::equal(e.tensors.at("base_model.model." + name), params[name]));
        ++lora;
      }
  EXPECT_EQ(e.tensors.at("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight").sizes(),
            (std::vector<int64_t>{4, 32}));  // [r, in] as nn.Linear(in, r)
  expect_head_and_pooler(e);
  EXPECT_EQ(static_cast<int>(e.tensors.size()), lora + 4);
}

// PEFT's IA3: "ia3_l" per module, [out, 1] or [1, in] for feed-forward modules; the targets and
// feed-forward lists as applied (the architecture's defaults when the config gives none).
TEST(PeftExport, Ia3KeysShapesAndValues) {
  auto e = export_of("bert_seq_cls", R"({"name": "ia3"})");
  ASSERT_TRUE(e.ok) << e.why;
  EXPECT_EQ(e.config["peft_type"], "IA3");
  EXPECT_EQ(e.config["target_modules"], nlohmann::json({"key", "value", "output.dense"}));
  EXPECT_EQ(e.config["feedforward_modules"], nlohmann::json({"output.dense"}));
  EXPECT_EQ(e.config["fan_in_fan_out"], false);
  auto params = e.model->named_parameters();
  int ia3 = 0;
  for (int l = 0; l < 2; ++l)
    for (const char* proj : {"attention.self.key", "attention.self.value", "attention.output.dense", "output.dense"}) {
      std::string name = "bert.encoder.layer." + std::to_string(l) + "." + proj + ".ia3_l";
      ASSERT_TRUE(e.tensors.count("base_model.model." + name)) << name;
      EXPECT_TRUE(torch::equal(e.tensors.at("base_model.model." + name), params[name]));
      ++ia3;
    }
  EXPECT_EQ(e.tensors.at("base_model.model.bert.encoder.layer.0.attention.self.key.ia3_l").sizes(), (std::vector<int64_t>{32, 1}));
  EXPECT_EQ(e.tensors.at("base_model.model.bert.encoder.layer.0.output.dense.ia3_l").sizes(), (std::vector<int64_t>{1, 64}));
  expect_head_and_pooler(e);
  EXPECT_EQ(static_cast<int>(e.tensors.size()), ia3 + 4);
  auto g = export_of("gpt2_lm", R"({"name": "ia3", "targets": ["c_attn", "c_proj"], "feedforward": ["mlp.c_proj"]})");
  ASSERT_TRUE(g.ok) << g.why;
  EXPECT_EQ(g.config["fan_in_fan_out"], true);
  EXPECT_EQ(g.config["target_modules"], nlohmann::json({"c_attn", "c_proj"}));
  EXPECT_EQ(g.config["feedforward_modules"], nlohmann::json({"mlp.c_proj"}));
  EXPECT_EQ(g.config["task_type"], "CAUSAL_LM");
  EXPECT_EQ(g.tensors.at("base_model.model.transformer.h.0.attn.c_proj.ia3_l").sizes(), (std::vector<int64_t>{32, 1}));
  EXPECT_EQ(g.tensors.at("base_model.model.transformer.h.0.mlp.c_proj.ia3_l").sizes(), (std::vector<int64_t>{1, 128}));
}

TEST(PeftExport, LnTuningKeysAndValues) {
  auto e = export_of("bert_seq_cls", R"({"name": "ln", "modules": ["mha", "ffn"]})");
  ASSERT_TRUE(e.ok) << e.why;
  EXPECT_EQ(e.config["peft_type"], "LN_TUNING");
  ASSERT_EQ(e.config["target_modules"].size(), 4u);  // 2 layers x (after-MHA, after-FFN); not the embedding LN
  EXPECT_EQ(e.config["target_modules"][0], "bert.encoder.layer.0.attention.output.LayerNorm");
  auto params = e.model->named_parameters();
  for (const auto& t : e.config["target_modules"])
    for (const char* term : {"weight", "bias"}) {
      std::string k = "base_model.model." + t.get<std::string>() + ".ln_tuning_layers." + term;
      ASSERT_TRUE(e.tensors.count(k)) << k;
      EXPECT_TRUE(torch::equal(e.tensors.at(k), params[t.get<std::string>() + "." + term])) << k;
    }
  EXPECT_FALSE(keys(e).count("base_model.model.bert.embeddings.LayerNorm.ln_tuning_layers.weight"));
  expect_head_and_pooler(e);
}

TEST(PeftExport, PrefixIsThePrefixesWithoutTheMlpInPeftLayout) {
  auto e = export_of("bert_seq_cls", R"({"name": "prefix", "length": 3, "hidden": 16})");
  ASSERT_TRUE(e.ok) << e.why;
  EXPECT_EQ(e.config["peft_type"], "PREFIX_TUNING");
  EXPECT_EQ(e.config["prefix_projection"], false);
  EXPECT_EQ(e.config["num_virtual_tokens"], 3);
  EXPECT_EQ(e.config["encoder_hidden_size"], 16);
  EXPECT_EQ(e.config["token_dim"], e.model->config.hidden_size);
  EXPECT_EQ(e.config["num_layers"], e.model->config.num_layers);
  EXPECT_EQ(e.config["num_attention_heads"], e.model->config.num_heads);
  auto pe = e.tensors.at("prompt_embeddings");
  ASSERT_EQ(pe.sizes(), (std::vector<int64_t>{3, 2 * 2 * 32}));  // [P, L * 2 * H]
  // PEFT's reading (PeftModel.get_prompt): view(B, P, L*2, heads, d).permute(2, 0, 3, 1, 4).split(2):
  // layer l's keys are chunk 2l, values 2l+1, each [B, heads, P, d]. Ours must give the same.
  const int64_t heads = e.model->config.num_heads, d = 32 / heads;
  auto pkv = pe.view({1, 3, 4, heads, d}).permute({2, 0, 3, 1, 4});
  auto* bert = dynamic_cast<BertTaskModelImpl*>(e.model.get());
  torch::NoGradGuard g;
  for (int64_t l = 0; l < 2; ++l) {
    auto attn = bert->bert->layers[static_cast<size_t>(l)]->as<BertLayer>()->attention->self;
    auto [k, v] = attn->prefix->key_values(1);
    EXPECT_TRUE(torch::allclose(k, pkv[2 * l], 1e-6, 1e-6)) << "layer " << l << " keys";
    EXPECT_TRUE(torch::allclose(v, pkv[2 * l + 1], 1e-6, 1e-6)) << "layer " << l << " values";
  }
  for (const auto& k : keys(e)) EXPECT_EQ(k.find("mlp"), std::string::npos) << k;
  expect_head_and_pooler(e, "base_model.");
  EXPECT_FALSE(keys(e).count("base_model.model.classifier.weight"));
}

TEST(PeftExport, PromptEmbeddings) {
  auto e = export_of("bert_seq_cls", R"({"name": "prompt", "length": 5})");
  ASSERT_TRUE(e.ok) << e.why;
  EXPECT_EQ(e.config["peft_type"], "PROMPT_TUNING");
  EXPECT_EQ(e.config["num_virtual_tokens"], 5);
  EXPECT_TRUE(torch::equal(e.tensors.at("prompt_embeddings"), e.model->named_parameters()["bert.prompt.embedding"]));
  expect_head_and_pooler(e, "base_model.");
}

TEST(PeftExport, MethodsWithoutAPeftFormatSaySo) {
  auto e = export_of("bert_seq_cls", R"({"name": "adapter"})");
  EXPECT_FALSE(e.ok);
  EXPECT_NE(e.why.find("'adapter'"), std::string::npos) << e.why;
  e = export_of("bert_seq_cls", R"({"name": "prefix+ln"})");
  EXPECT_FALSE(e.ok);
  EXPECT_NE(e.why.find("combination"), std::string::npos) << e.why;
}
