// Any bytes as a torch.save data.pkl: descriptors or Error, never a crash or a hang.
#include <cstddef>
#include <cstdint>

#include "io/torch_pickle.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lntune::parse_state_dict_pickle(data, size, "fuzz.bin");
  } catch (const lntune::Error&) {
  }
  return 0;
}
