// Default targets per architecture, in one table, and how a target names a module.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lntune::peft {

// Projection names LoRA wraps by default (HF PEFT's defaults): BERT query/value, GPT-2 c_attn.
std::vector<std::string> default_lora_targets(const std::string& model_type);

// IA3's defaults (HF PEFT's TRANSFORMERS_MODELS_TO_IA3_*_MAPPING): the projections it scales, and
// those of them whose input it scales (feed-forward) instead of their output. BERT: key, value and
// "output.dense" — which names both the attention's output projection and the FFN's, so PEFT scales
// the inputs of both; GPT-2: c_attn (all of q, k, v) and the MLP's c_proj.
std::vector<std::string> default_ia3_targets(const std::string& model_type);
std::vector<std::string> default_ia3_feedforward(const std::string& model_type);

// A list option of names (`targets`, IA3's `feedforward`): an OptionError on `key` unless every
// entry is a string.
void check_names(const nlohmann::json& list, const std::string& key);

// The strings of a method's list option (`targets`, IA3's `feedforward`), or `defaults` when it is
// empty.
std::vector<std::string> names_or(const nlohmann::json& list, std::vector<std::string> defaults);

// HF PEFT's rule for a list of target names: a module is a target when its name is one of them
// or ends with "." + one of them ("value", "output.dense", "layer.0.output.dense").
bool matches_target(const std::string& module_name, const std::vector<std::string>& targets);

}  // namespace lntune::peft
