// Any text as config.json: a validated ModelConfig or Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "models/model_config.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto c = lntune::ModelConfig::from_string(std::string(reinterpret_cast<const char*>(data), size), "config.json");
    if (c.hidden_size % c.num_heads != 0 || c.num_layers <= 0) std::abort();  // validation must hold
    lntune::ModelConfig::from_json(c.to_json(), "round-trip");
  } catch (const lntune::Error&) {
  }
  return 0;
}
