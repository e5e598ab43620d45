// A minimal pickle reader for the `data.pkl` of a torch.save zip archive (HF pytorch_model.bin).
// Only what state dicts use: dicts/OrderedDicts of tensors rebuilt by torch._utils. LibTorch's
// own unpickler rejects HF files (the OrderedDict `_metadata` BUILD), hence this one. Torch-free:
// it yields tensor descriptors; io/state_dict.cpp reads the storages from the zip.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lntune {

struct PickledTensor {
  std::string name;
  std::string storage_key;   // record "data/<key>" in the archive
  std::string storage_type;  // "FloatStorage", "BFloat16Storage", ...
  int64_t storage_numel = 0;
  int64_t offset = 0;        // in elements
  std::vector<int64_t> shape, stride;
};

// Parses the pickle; throws Error naming `source` on anything outside the supported subset.
std::vector<PickledTensor> parse_state_dict_pickle(const unsigned char* data, size_t size, const std::string& source);

}  // namespace lntune
