// The pretraining config: defaults, the open model.config object, and errors naming the key.
#include <gtest/gtest.h>

#include "config/pretrain_config.h"
#include "util/error.h"

using namespace lntune;

namespace {
nlohmann::json pretrain_base() {
  return nlohmann::json::parse(R"({"model": {"preset": "bert-mini", "config": {"num_hidden_layers": 2}},
                                  "corpus": {"path": "en.txt"}, "train": {"max_steps": 10}})");
}
std::string pretrain_error_of(nlohmann::json j, std::vector<std::string> sets = {}) {
  try {
    resolve_pretrain_config(std::move(j), sets, "p.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(PretrainConfig, DefaultsOverridesAndModelConfig) {
  auto c = resolve_pretrain_config(pretrain_base(), {"train.lr=0.0005", "objective.whole_word=true"}, "p.json");
  EXPECT_EQ(c["model"]["config"]["num_hidden_layers"], 2);
  EXPECT_EQ(c["train"]["lr"].get<double>(), 0.0005);
  EXPECT_EQ(c["train"]["max_steps"], 10);
  EXPECT_EQ(c["train"]["seq_length"], 128);
  EXPECT_TRUE(c["objective"]["whole_word"].get<bool>());
  EXPECT_EQ(c["corpus"]["heldout_every"], 100);
  EXPECT_LT(c["train"]["dropout"].get<double>(), 0);  // the model's own dropout unless set
  EXPECT_EQ(c["model"]["position_init"], "normal");
  EXPECT_EQ(c["model"]["attention_init"], "normal");
  EXPECT_EQ(c["model"]["attention"], "auto");
  EXPECT_EQ(c["model"]["dropout_impl"], "fused");
  c = resolve_pretrain_config(pretrain_base(), {"model.position_init=\"sinusoidal\"", "model.attention_init=\"local\""}, "p.json");
  EXPECT_EQ(c["model"]["attention_init"], "local");
  EXPECT_EQ(c["model"]["embedding_init"], "normal");
  c = resolve_pretrain_config(pretrain_base(), {"model.embedding_init=\"ppmi\""}, "p.json");
  EXPECT_EQ(c["model"]["embedding_init"], "ppmi");
}

TEST(PretrainConfig, ErrorsNameTheKey) {
  auto j = pretrain_base();
  j["train"]["learning_rate"] = 1;
  EXPECT_NE(pretrain_error_of(j).find("p.json: train.learning_rate"), std::string::npos) << pretrain_error_of(j);
  j = pretrain_base();
  j["model"]["path"] = "runs/models/x";
  EXPECT_NE(pretrain_error_of(j).find("p.json: model:"), std::string::npos) << pretrain_error_of(j);  // preset and path
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.norm.dyt_init=\"warm\""}),
            "p.json: model.norm.dyt_init: 'warm' is not one of constant, calibrated");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.attention=flash"}), "p.json: model.attention: 'flash' is not one of auto, eager, sdpa");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.dropout_impl=mkl"}), "p.json: model.dropout_impl: 'mkl' is not one of fused, torch");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.preset=bert-huge"}),
            "p.json: model.preset: 'bert-huge' is not one of bert-tiny, bert-mini, bert-small, bert-base, gpt2-mini, gpt2-small, gpt2-base");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"train.adamw_impl=apex"}), "p.json: train.adamw_impl: 'apex' is not one of fused, torch");
  j = pretrain_base();
  j["corpus"].erase("path");
  EXPECT_NE(pretrain_error_of(j).find("corpus.path"), std::string::npos);
  EXPECT_NE(pretrain_error_of(pretrain_base(), {"objective.type=nsp"}).find("objective.type"), std::string::npos);
  EXPECT_NE(pretrain_error_of(pretrain_base(), {"objective.mask_ratio=0.95"}).find("objective.mask_ratio"), std::string::npos);
  EXPECT_NE(pretrain_error_of(pretrain_base(), {"train.schedule=step"}).find("train.schedule"), std::string::npos);
  for (const char* k : {"eval_every", "eval_blocks", "save_every", "stop_after_steps", "weight_decay", "max_grad_norm"}) {
    EXPECT_EQ(pretrain_error_of(pretrain_base(), {std::string("train.") + k + "=-1"}), std::string("p.json: train.") + k + ": must be >= 0");
    EXPECT_EQ(pretrain_error_of(pretrain_base(), {std::string("train.") + k + "=0"}), "") << k;
  }
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"train.beta2=1"}), "p.json: train.beta2: must be in [0, 1)");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"corpus.max_documents=-2"}), "p.json: corpus.max_documents: must be >= 0 (0: all)");
  EXPECT_NE(pretrain_error_of(pretrain_base(), {"train.device=tpu"}).find("train.device"), std::string::npos);
  EXPECT_NE(pretrain_error_of(pretrain_base(), {"train.max_steps=0"}).find("train.max_steps"), std::string::npos);
  EXPECT_NE(pretrain_error_of(pretrain_base(), {"train.batch_size=\"8\""}).find("train.batch_size"), std::string::npos);
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"train.dropout=1.0"}), "p.json: train.dropout: must be < 1 (negative: the model's own)");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.position_init=\"fourier\""}),
            "p.json: model.position_init: 'fourier' is not one of normal, sinusoidal");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.attention_init=\"mimetic\""}),
            "p.json: model.attention_init: 'mimetic' is not one of normal, local");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.attention_init=\"local\""}),
            "p.json: model.attention_init: 'local' builds on sinusoidal positions: set model.position_init to sinusoidal");
  EXPECT_EQ(pretrain_error_of(pretrain_base(), {"model.embedding_init=\"glove\""}),
            "p.json: model.embedding_init: 'glove' is not one of normal, ppmi");
  j = pretrain_base();
  j["model"].erase("preset");
  j["model"].erase("config");
  j["model"]["path"] = "runs/models/x";
  j["model"]["embedding_init"] = "ppmi";
  EXPECT_EQ(pretrain_error_of(j), "p.json: model.embedding_init: applies to a new model (preset), not to a checkpoint path");
  j = pretrain_base();
  j["model"]["config"] = 3;
  EXPECT_NE(pretrain_error_of(j).find("model.config"), std::string::npos);
}
