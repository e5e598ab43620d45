// Named model sizes (HF config.json fields) for seeded models and pretraining. Torch-free.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lntune {

// The config.json fields of preset `name` for a vocabulary of `vocab` tokens. An unknown name is
// an Error "<where>: 'x' is not one of bert-tiny, ..." (`where`: the option or config key).
nlohmann::json model_preset(const std::string& name, int64_t vocab, const std::string& where = "model preset");
const std::vector<std::string>& model_preset_names();

}  // namespace lntune
