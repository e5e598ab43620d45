// Default targets per architecture, in one table.
#pragma once
#include <string>
#include <vector>

namespace lntune::peft {

// Projection names LoRA wraps by default (HF PEFT's defaults): BERT query/value, GPT-2 c_attn.
std::vector<std::string> default_lora_targets(const std::string& model_type);

}  // namespace lntune::peft
