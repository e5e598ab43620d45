// The run config: one JSON file picks model, method(s), task/data, norm kernel and training
// settings. Unknown keys and wrong types are errors naming the key; `--set a.b=v` overrides.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lntune {

// Every key with its default (the documentation of the format, too).
nlohmann::json run_config_defaults();

// Reads `path`, applies overrides, validates. "method" is validated by the PEFT registry.
nlohmann::json load_run_config(const std::string& path, const std::vector<std::string>& overrides);
nlohmann::json resolve_run_config(nlohmann::json user, const std::vector<std::string>& overrides,
                                  const std::string& source);

}  // namespace lntune
