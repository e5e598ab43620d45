#include "config/norm_config.h"

#include "config/json_schema.h"

namespace lntune {

void check_norm_config(const nlohmann::json& norm, const std::string& source) {
  one_of(norm["type"], source, "model.norm.type", {"auto", "layernorm", "dyt"});
  one_of(norm["impl"], source, "model.norm.impl", {"torch", "fused"});
  one_of(norm["dyt_init"], source, "model.norm.dyt_init", {"constant", "calibrated"});
}

}  // namespace lntune
