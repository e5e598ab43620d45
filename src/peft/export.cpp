// HF PEFT export: the common part of adapter_config.json (task type, base model, modules to save)
// and writing the folder; each method supplies its own fields and tensors (Method::peft_export).
#include <filesystem>

#include "io/state_dict.h"
#include "peft/method.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

namespace lntune::peft {

nlohmann::json virtual_tokens_config(const std::string& peft_type, const nlohmann::json& length, const ModelConfig& c) {
  return {{"peft_type", peft_type},          {"num_virtual_tokens", length},     {"token_dim", c.hidden_size},
          {"num_transformer_submodules", 1}, {"num_attention_heads", c.num_heads}, {"num_layers", c.num_layers}};
}

bool export_peft_adapter(TaskModelImpl& model, Applied& applied, const std::string& base_model, const std::string& dir,
                         std::string& why) {
  if (applied.methods.size() != 1) {
    why = "HF PEFT has no format for a combination of methods";
    return false;
  }
  auto ex = applied.methods[0]->peft_export(model, applied.resolved[0]);
  if (!ex) {
    why = "HF PEFT has no format for '" + applied.methods[0]->name() + "'";
    return false;
  }
  torch::NoGradGuard g;
  const std::string prefix = model.backbone_prefix();
  nlohmann::json cfg = ex->config;
  cfg["base_model_name_or_path"] = base_model;
  cfg["inference_mode"] = true;
  cfg["revision"] = nullptr;
  cfg["library"] = "lntune";
  switch (model.head) {
    case Head::SequenceClassification: cfg["task_type"] = "SEQ_CLS"; break;
    case Head::TokenClassification: cfg["task_type"] = "TOKEN_CLS"; break;
    case Head::LanguageModel: cfg["task_type"] = "CAUSAL_LM"; break;
    default: cfg["task_type"] = nullptr;
  }
  // The task head trains with every method: PEFT saves it as modules_to_save. BERT's pooler is
  // saved too: a checkpoint from MLM pretraining has none, so the one used here was made fresh.
  // Their keys follow PeftModel's own state dict: the tuners (LoRA, LN) wrap the transformers model
  // (base_model.model.<path>); for prompt learning (prefix, prompt) base_model is that model itself
  // (base_model.<path>), and PEFT looks the tensors up under that name (checked with PEFT on the GPU
  // machine: the other name fails to load with a KeyError).
  const bool prompt_learning = cfg["peft_type"] == "PREFIX_TUNING" || cfg["peft_type"] == "PROMPT_TUNING";
  const std::string saved_as = prompt_learning ? "base_model." : "base_model.model.";
  nlohmann::json modules = nlohmann::json::array();
  auto tensors = ex->tensors;
  for (const auto& child : model.named_children())
    if (child.key() + "." != prefix && !child.value()->parameters().empty()) modules.push_back(child.key());
  for (const auto& p : model.named_parameters()) {
    bool head = !starts_with(p.key(), prefix), pooler = starts_with(p.key(), prefix + "pooler.");
    if (head || pooler) tensors.emplace_back(saved_as + p.key(), p.value().detach().clone());
  }
  bool has_pooler = false;
  for (const auto& p : model.named_parameters()) has_pooler |= starts_with(p.key(), prefix + "pooler.");
  if (has_pooler) modules.push_back("pooler");
  cfg["modules_to_save"] = modules;
  std::filesystem::create_directories(dir);
  write_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
  write_file_atomic(dir + "/adapter_config.json", cfg.dump(2));
  return true;
}

}  // namespace lntune::peft
