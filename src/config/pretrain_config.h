// The pretraining config (`lntune pretrain --config`): model (a preset, a config.json object, or
// a checkpoint to continue from), tokenizer, corpus, objective (mlm | clm) and training settings.
// Strict as the run config: unknown keys and wrong types are errors naming the key.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lntune {

nlohmann::json pretrain_config_defaults();
nlohmann::json load_pretrain_config(const std::string& path, const std::vector<std::string>& overrides);
nlohmann::json resolve_pretrain_config(nlohmann::json user, const std::vector<std::string>& overrides,
                                       const std::string& source);

}  // namespace lntune
