// norm_options (config/norm_config.h): in the torch library, beside the torch-free check.
#include "config/norm_config.h"
#include "models/norm.h"

namespace lntune {

NormOptions norm_options(const nlohmann::json& norm) {
  return NormOptions()
      .type(norm["type"].get<std::string>())
      .impl(norm["impl"].get<std::string>())
      .dyt_alpha_init(norm["dyt_alpha_init"].get<double>())
      .dyt_init(norm["dyt_init"].get<std::string>());
}

}  // namespace lntune
