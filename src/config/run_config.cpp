#include "config/run_config.h"

#include <cmath>

#include "config/json_schema.h"
#include "config/norm_config.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune {

nlohmann::json run_config_defaults() {
  return nlohmann::json::parse(R"({
    "model": {"path": "", "norm": {"type": "auto", "impl": "torch", "dyt_alpha_init": 0.5, "dyt_init": "constant"}, "dropout": -1.0,
              "dropout_impl": "fused", "attention": "auto"},
    "tokenizer": "",
    "task": {"name": "", "data_dir": "", "train_file": "", "dev_file": "", "num_labels": 0,
             "max_length": 128, "max_train_examples": 0, "max_eval_examples": 0, "token_cache": true,
             "max_new_tokens": 64, "num_beams": 1, "length_penalty": 1.0, "early_stopping": false,
             "no_repeat_ngram_size": 0},
    "method": {"name": "full"},
    "train": {"epochs": 3, "batch_size": 16, "eval_batch_size": 64, "grad_accum": 1, "lr": 2e-5,
              "weight_decay": 0.01, "warmup_ratio": 0.06, "max_grad_norm": 1.0, "seed": 42,
              "max_steps": 0, "eval_every": 0, "log_every": 10, "stop_after_steps": 0, "shuffle": true,
              "group_by_length": false, "device": "auto", "bf16": true, "frozen_bf16": true, "dist_backend": "auto",
              "adamw_impl": "fused", "cuda_graphs": "auto"},
    "output_dir": "runs/default"
  })");
}

nlohmann::json resolve_run_config(nlohmann::json user, const std::vector<std::string>& overrides,
                                  const std::string& source) {
  for (const auto& o : overrides) apply_override(user, o, source);
  if (!user.is_object()) fail(source, "", "config must be a JSON object");
  // The method spec is open here: its keys depend on the method and are checked by the registry.
  nlohmann::json method = user.contains("method") ? user["method"] : run_config_defaults()["method"];
  user.erase("method");
  // train.cuda_graphs is true, false or "auto" (two JSON types, which merge_strict does not take).
  nlohmann::json graphs = "auto";
  if (user.contains("train") && user["train"].is_object() && user["train"].contains("cuda_graphs")) {
    graphs = user["train"]["cuda_graphs"];
    user["train"].erase("cuda_graphs");
    if (!graphs.is_boolean() && graphs != "auto") fail(source, "train.cuda_graphs", "must be true, false or \"auto\", got " + graphs.dump());
  }
  // task.early_stopping likewise: false, true or "never" (HF generate's).
  nlohmann::json early = false;
  if (user.contains("task") && user["task"].is_object() && user["task"].contains("early_stopping")) {
    early = user["task"]["early_stopping"];
    user["task"].erase("early_stopping");
    if (!early.is_boolean() && early != "never") fail(source, "task.early_stopping", "must be true, false or \"never\", got " + early.dump());
  }
  nlohmann::json cfg = merge_strict(run_config_defaults(), user, source);
  cfg["method"] = method;
  cfg["train"]["cuda_graphs"] = graphs;
  cfg["task"]["early_stopping"] = early;
  if (cfg["model"]["path"].get<std::string>().empty()) fail(source, "model.path", "missing");
  if (cfg["task"]["name"].get<std::string>().empty()) fail(source, "task.name", "missing");
  if (cfg["output_dir"].get<std::string>().empty()) fail(source, "output_dir", "missing");
  const auto& t = cfg["train"];
  for (const char* k : {"epochs", "batch_size", "eval_batch_size", "grad_accum"})
    if (t[k].get<int64_t>() <= 0) fail(source, std::string("train.") + k, "must be positive");
  if (t["lr"].get<double>() <= 0) fail(source, "train.lr", "must be positive");
  // 0 means "off" or "all" for these (max_grad_norm 0: no clipping; max_steps 0: the epochs'),
  // and a negative value means nothing: a typo that would otherwise pass as 0.
  for (const char* k : {"max_steps", "eval_every", "log_every", "stop_after_steps"})
    if (t[k].get<int64_t>() < 0) fail(source, std::string("train.") + k, "must be >= 0");
  for (const char* k : {"weight_decay", "max_grad_norm"})
    if (!(t[k].get<double>() >= 0)) fail(source, std::string("train.") + k, "must be >= 0");
  for (const char* k : {"max_train_examples", "max_eval_examples"})
    if (cfg["task"][k].get<int64_t>() < 0) fail(source, std::string("task.") + k, "must be >= 0 (0: all)");
  if (t["warmup_ratio"].get<double>() < 0 || t["warmup_ratio"].get<double>() >= 1)
    fail(source, "train.warmup_ratio", "must be in [0, 1)");
  one_of(t["device"], source, "train.device", {"auto", "cpu", "cuda"});
  one_of(t["dist_backend"], source, "train.dist_backend", {"auto", "gloo", "nccl"});
  one_of(t["adamw_impl"], source, "train.adamw_impl", {"fused", "torch"});
  if (t["cuda_graphs"] == true) {
    // A replayed graph repeats one step's kernels: one micro-batch per step, an optimizer whose
    // per-step scalars live on the device (the fused one). Device and process count: at run time.
    // ("auto", the default, is on where these hold: cuda_graphs_wanted.)
    if (t["grad_accum"].get<int64_t>() != 1) fail(source, "train.cuda_graphs", "needs train.grad_accum 1");
    if (t["adamw_impl"].get<std::string>() != "fused") fail(source, "train.cuda_graphs", "needs train.adamw_impl fused");
    if (t["device"].get<std::string>() == "cpu") fail(source, "train.cuda_graphs", "needs a CUDA device, not train.device cpu");
  }
  check_norm_config(cfg["model"]["norm"], source);
  one_of(cfg["model"]["attention"], source, "model.attention", {"auto", "eager", "sdpa"});
  one_of(cfg["model"]["dropout_impl"], source, "model.dropout_impl", {"fused", "torch"});
  if (cfg["task"]["max_length"].get<int64_t>() < 8) fail(source, "task.max_length", "must be at least 8");
  check_decoding(cfg["task"], source);
  double dropout = cfg["model"]["dropout"].get<double>();
  if (dropout != -1.0 && (dropout < 0 || dropout >= 1)) fail(source, "model.dropout", "must be in [0, 1), or -1 to keep the checkpoint's");
  return cfg;
}

void check_decoding(const nlohmann::json& task, const std::string& source) {
  if (task["max_new_tokens"].get<int64_t>() <= 0) fail(source, "task.max_new_tokens", "must be positive");
  if (task["num_beams"].get<int64_t>() < 1) fail(source, "task.num_beams", "must be at least 1");
  if (task["no_repeat_ngram_size"].get<int64_t>() < 0) fail(source, "task.no_repeat_ngram_size", "must be 0 (off) or positive");
  if (!std::isfinite(task["length_penalty"].get<double>())) fail(source, "task.length_penalty", "must be finite");
}

bool cuda_graphs_wanted(const nlohmann::json& train, bool cuda, bool data_parallel, bool graphs_built) {
  const auto& g = train["cuda_graphs"];
  if (g.is_boolean()) return g.get<bool>();
  return cuda && !data_parallel && graphs_built && train["grad_accum"].get<int64_t>() == 1 &&
         train["adamw_impl"].get<std::string>() == "fused";
}

nlohmann::json load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  nlohmann::json user;
  try {
    user = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(path, "", std::string("invalid JSON: ") + e.what());
  }
  return resolve_run_config(user, overrides, path);
}

}  // namespace lntune
