#include "peft/targets.h"

#include "util/error.h"
#include "util/strings.h"

namespace lntune::peft {

namespace {
[[noreturn]] void no_defaults(const char* method, const std::string& model_type) {
  throw Error(std::string("no default ") + method + " targets for model_type '" + model_type + "'");
}
}  // namespace

std::vector<std::string> default_lora_targets(const std::string& model_type) {
  if (model_type == "bert") return {"query", "value"};
  if (model_type == "gpt2") return {"c_attn"};
  no_defaults("LoRA", model_type);
}

std::vector<std::string> default_ia3_targets(const std::string& model_type) {
  if (model_type == "bert") return {"key", "value", "output.dense"};
  if (model_type == "gpt2") return {"c_attn", "mlp.c_proj"};
  no_defaults("IA3", model_type);
}

std::vector<std::string> default_ia3_feedforward(const std::string& model_type) {
  if (model_type == "bert") return {"output.dense"};
  if (model_type == "gpt2") return {"mlp.c_proj"};
  no_defaults("IA3", model_type);
}

void check_names(const nlohmann::json& list, const std::string& key) {
  for (const auto& t : list)
    if (!t.is_string()) throw OptionError(key, "entries must be strings (module names), got " + t.dump());
}

std::vector<std::string> names_or(const nlohmann::json& list, std::vector<std::string> defaults) {
  if (list.empty()) return defaults;
  std::vector<std::string> out;
  for (const auto& t : list) out.push_back(t.get<std::string>());
  return out;
}

bool matches_target(const std::string& module_name, const std::vector<std::string>& targets) {
  for (const auto& t : targets)
    if (module_name == t || ends_with(module_name, "." + t)) return true;
  return false;
}

}  // namespace lntune::peft
