#include "io/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "util/error.h"

namespace lntune {

namespace {
struct DTypeInfo { DType d; const char* name; size_t size; };
constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1},
};
constexpr uint64_t kMaxHeader = 100ull << 20;  // the reference implementation's limit
}  // namespace

size_t dtype_size(DType d) {
  for (const auto& i : kDTypes) if (i.d == d) return i.size;
  return 0;
}
const char* dtype_name(DType d) {
  for (const auto& i : kDTypes) if (i.d == d) return i.name;
  return "?";
}
bool dtype_from_name(const std::string& s, DType& out) {
  for (const auto& i : kDTypes)
    if (s == i.name) { out = i.d; return true; }
  return false;
}

SafetensorsHeader parse_safetensors_header(const unsigned char* data, size_t size, const std::string& source) {
  if (size < 8) fail(source, "header", "file is " + std::to_string(size) + " bytes, too short for a safetensors header");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kMaxHeader || n > size - 8)
    fail(source, "header", "length " + std::to_string(n) + " runs past the end of the " + std::to_string(size) +
                               "-byte file (truncated or not safetensors)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data + 8, data + 8 + n);
  } catch (const nlohmann::json::exception& e) {
    fail(source, "header", std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object()) fail(source, "header", "must be a JSON object");
  SafetensorsHeader h;
  h.data_start = 8 + n;
  const uint64_t data_size = size - h.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail(source, "__metadata__", "must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(source, "__metadata__." + m.key(), "must be a string");
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) fail(source, name, "entry must be an object");
    TensorEntry e;
    e.name = name;
    if (!v.contains("dtype") || !v["dtype"].is_string() || !dtype_from_name(v["dtype"].get<std::string>(), e.dtype))
      fail(source, name + ".dtype", "missing or unsupported dtype");
    if (!v.contains("shape") || !v["shape"].is_array()) fail(source, name + ".shape", "missing or not an array");
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) fail(source, name + ".shape", "dimensions must be non-negative integers");
      uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim)
        fail(source, name + ".shape", "too large");
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = v.contains("data_offsets") ? v["data_offsets"] : nlohmann::json();
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(source, name + ".data_offsets", "must be [begin, end]");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data_size)
      fail(source, name + ".data_offsets", "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                               "] outside the " + std::to_string(data_size) + "-byte data section");
    if (e.end - e.begin != numel * dtype_size(e.dtype))
      fail(source, name + ".data_offsets", "span of " + std::to_string(e.end - e.begin) + " bytes does not match shape x " +
                                               dtype_name(e.dtype) + " (" + std::to_string(numel * dtype_size(e.dtype)) + ")");
    h.tensors.push_back(std::move(e));
  }
  std::vector<const TensorEntry*> order;
  for (const auto& t : h.tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->begin < order[i - 1]->end)
      fail(source, order[i]->name + ".data_offsets", "overlaps tensor " + order[i - 1]->name);
  return h;
}

std::string build_safetensors(const std::vector<TensorEntry>& entries, const std::vector<std::string>& blobs,
                              const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json j;
  if (!metadata.empty()) j["__metadata__"] = metadata;
  uint64_t off = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    j[entries[i].name] = {{"dtype", dtype_name(entries[i].dtype)},
                          {"shape", entries[i].shape},
                          {"data_offsets", {off, off + blobs[i].size()}}};
    off += blobs[i].size();
  }
  std::string header = j.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // align the data section to 8 bytes
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += header;
  for (const auto& b : blobs) out += b;
  return out;
}

}  // namespace lntune
