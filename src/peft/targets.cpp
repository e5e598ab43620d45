#include "peft/targets.h"

#include "util/error.h"

namespace lntune::peft {

std::vector<std::string> default_lora_targets(const std::string& model_type) {
  if (model_type == "bert") return {"query", "value"};
  if (model_type == "gpt2") return {"c_attn"};
  throw Error("no default LoRA targets for model_type '" + model_type + "'");
}

}  // namespace lntune::peft
