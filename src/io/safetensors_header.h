// The safetensors header: 8-byte little-endian length, a JSON table of tensors, then raw data.
// Parsed and bounds-checked without LibTorch so it can be fuzzed.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lntune {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };
size_t dtype_size(DType d);
const char* dtype_name(DType d);  // safetensors spelling: "F32", "BF16", ...
bool dtype_from_name(const std::string& s, DType& out);

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets relative to the data section
};

struct SafetensorsHeader {
  uint64_t data_start = 0;  // absolute offset of the data section in the file
  std::vector<TensorEntry> tensors;
  std::map<std::string, std::string> metadata;
};

// Throws Error("<source>: <field>: ...") on any inconsistency: short file, header length past the
// end, bad JSON, unknown dtype, offsets outside the data or not matching shape x dtype, overlaps.
SafetensorsHeader parse_safetensors_header(const unsigned char* data, size_t size, const std::string& source);

// Serialises a header + data (tensors laid out in the given order); used by writers and tests.
std::string build_safetensors(const std::vector<TensorEntry>& entries, const std::vector<std::string>& blobs,
                              const std::map<std::string, std::string>& metadata = {});

}  // namespace lntune
