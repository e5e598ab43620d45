// Any bytes: parse_safetensors_header either returns entries inside the file or throws Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "io/safetensors_header.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto h = lntune::parse_safetensors_header(data, size, "fuzz.safetensors");
    for (const auto& t : h.tensors)
      if (h.data_start + t.end > size || t.begin > t.end) std::abort();  // bounds must hold
  } catch (const lntune::Error&) {
  }
  return 0;
}
