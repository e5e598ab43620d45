// model.norm of a run or pretraining config: its names checked (errors naming the file and key)
// and turned into NormOptions. No torch here: the config resolvers (the torch-free core) include
// it; norm_options is defined in norm_options.cpp, in the torch library.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace lntune {

struct NormOptions;

void check_norm_config(const nlohmann::json& norm, const std::string& source);
NormOptions norm_options(const nlohmann::json& norm);

}  // namespace lntune
