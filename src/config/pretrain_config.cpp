#include "config/pretrain_config.h"

#include "config/json_schema.h"
#include "config/norm_config.h"
#include "models/presets.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune {

nlohmann::json pretrain_config_defaults() {
  // model.config is open (HF config.json fields over the preset); everything else is strict.
  return nlohmann::json::parse(R"({
    "model": {"preset": "", "config": {}, "path": "", "position_init": "normal",
              "attention_init": "normal", "embedding_init": "normal", "attention": "auto",
              "dropout_impl": "fused",
              "norm": {"type": "auto", "impl": "torch", "dyt_alpha_init": 0.5, "dyt_init": "constant"}},
    "tokenizer": "",
    "corpus": {"path": "", "format": "lines", "heldout_every": 100, "max_documents": 0},
    "objective": {"type": "", "mask_prob": 0.15, "mask_ratio": 0.8, "random_ratio": 0.1, "whole_word": false},
    "train": {"seq_length": 128, "batch_size": 64, "grad_accum": 1, "lr": 1e-3, "weight_decay": 0.01,
              "beta2": 0.98, "warmup_ratio": 0.05, "schedule": "linear", "max_grad_norm": 1.0, "seed": 42,
              "max_steps": 1000, "eval_every": 500, "eval_blocks": 256, "eval_batch_size": 64,
              "log_every": 10, "save_every": 500, "stop_after_steps": 0, "bf16": true, "device": "auto",
              "dropout": -1.0, "adamw_impl": "fused"},
    "output_dir": "runs/pretrain/default"
  })");
}

nlohmann::json resolve_pretrain_config(nlohmann::json user, const std::vector<std::string>& overrides,
                                       const std::string& source) {
  for (const auto& o : overrides) apply_override(user, o, source);
  if (!user.is_object()) fail(source, "", "config must be a JSON object");
  nlohmann::json model_cfg = nlohmann::json::object();
  if (user.contains("model") && user["model"].is_object() && user["model"].contains("config")) {
    model_cfg = user["model"]["config"];
    user["model"].erase("config");
    if (!model_cfg.is_object()) fail(source, "model.config", "must be an object of config.json fields");
  }
  nlohmann::json cfg = merge_strict(pretrain_config_defaults(), user, source);
  cfg["model"]["config"] = model_cfg;
  const auto& m = cfg["model"];
  check_norm_config(m["norm"], source);
  one_of(m["attention"], source, "model.attention", {"auto", "eager", "sdpa"});
  one_of(m["dropout_impl"], source, "model.dropout_impl", {"fused", "torch"});
  bool has_preset = !m["preset"].get<std::string>().empty(), has_path = !m["path"].get<std::string>().empty();
  if (has_preset == has_path) fail(source, "model", "set exactly one of preset (a new model) and path (continue pretraining)");
  if (has_path && !model_cfg.empty()) fail(source, "model.config", "applies to a preset, not to a checkpoint path");
  if (has_preset) model_preset(m["preset"].get<std::string>(), 0, source + ": model.preset");  // the name, before any loading
  std::string pinit = one_of(m["position_init"], source, "model.position_init", {"normal", "sinusoidal"});
  if (has_path && pinit != "normal") fail(source, "model.position_init", "applies to a new model (preset), not to a checkpoint path");
  std::string ainit = one_of(m["attention_init"], source, "model.attention_init", {"normal", "local"});
  if (has_path && ainit != "normal") fail(source, "model.attention_init", "applies to a new model (preset), not to a checkpoint path");
  std::string einit = one_of(m["embedding_init"], source, "model.embedding_init", {"normal", "ppmi"});
  if (has_path && einit != "normal") fail(source, "model.embedding_init", "applies to a new model (preset), not to a checkpoint path");
  if (ainit == "local" && pinit != "sinusoidal")
    fail(source, "model.attention_init", "'local' builds on sinusoidal positions: set model.position_init to sinusoidal");
  if (cfg["corpus"]["path"].get<std::string>().empty()) fail(source, "corpus.path", "missing");
  one_of(cfg["corpus"]["format"], source, "corpus.format", {"lines", "paragraphs"});
  if (cfg["corpus"]["heldout_every"].get<int64_t>() < 0) fail(source, "corpus.heldout_every", "must be >= 0");
  if (!cfg["objective"]["type"].get<std::string>().empty())  // empty: the model's own (bert: mlm, gpt2: clm)
    one_of(cfg["objective"]["type"], source, "objective.type", {"mlm", "clm"});
  const auto& o = cfg["objective"];
  if (o["mask_prob"].get<double>() <= 0 || o["mask_prob"].get<double>() >= 1)
    fail(source, "objective.mask_prob", "must be in (0, 1)");
  if (o["mask_ratio"].get<double>() < 0 || o["random_ratio"].get<double>() < 0 ||
      o["mask_ratio"].get<double>() + o["random_ratio"].get<double>() > 1)
    fail(source, "objective.mask_ratio", "mask_ratio and random_ratio must be >= 0 and sum to at most 1");
  const auto& t = cfg["train"];
  for (const char* k : {"seq_length", "batch_size", "grad_accum", "max_steps", "eval_batch_size", "log_every"})
    if (t[k].get<int64_t>() <= 0) fail(source, std::string("train.") + k, "must be positive");
  if (t["seq_length"].get<int64_t>() < 8) fail(source, "train.seq_length", "must be at least 8");
  if (t["lr"].get<double>() <= 0) fail(source, "train.lr", "must be positive");
  for (const char* k : {"eval_every", "eval_blocks", "save_every", "stop_after_steps"})  // 0: off / all
    if (t[k].get<int64_t>() < 0) fail(source, std::string("train.") + k, "must be >= 0");
  for (const char* k : {"weight_decay", "max_grad_norm"})
    if (!(t[k].get<double>() >= 0)) fail(source, std::string("train.") + k, "must be >= 0");
  if (!(t["beta2"].get<double>() >= 0 && t["beta2"].get<double>() < 1)) fail(source, "train.beta2", "must be in [0, 1)");
  if (cfg["corpus"]["max_documents"].get<int64_t>() < 0) fail(source, "corpus.max_documents", "must be >= 0 (0: all)");
  if (double p = t["dropout"].get<double>(); p >= 1) fail(source, "train.dropout", "must be < 1 (negative: the model's own)");
  if (t["warmup_ratio"].get<double>() < 0 || t["warmup_ratio"].get<double>() >= 1)
    fail(source, "train.warmup_ratio", "must be in [0, 1)");
  one_of(t["schedule"], source, "train.schedule", {"linear", "cosine"});
  one_of(t["device"], source, "train.device", {"auto", "cpu", "cuda"});
  one_of(t["adamw_impl"], source, "train.adamw_impl", {"fused", "torch"});
  return cfg;
}

nlohmann::json load_pretrain_config(const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json user;
  try {
    user = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(path, "", std::string("invalid JSON: ") + e.what());
  }
  return resolve_pretrain_config(user, overrides, path);
}

}  // namespace lntune
