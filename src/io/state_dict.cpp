#include "io/state_dict.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <cstring>

#include "io/safetensors_header.h"
#include "io/torch_pickle.h"
#include "util/error.h"
#include "util/file.h"

namespace lntune {

namespace {

torch::ScalarType to_scalar(DType d) {
  switch (d) {
    case DType::F64: return torch::kDouble;
    case DType::F32: return torch::kFloat;
    case DType::F16: return torch::kHalf;
    case DType::BF16: return torch::kBFloat16;
    case DType::I64: return torch::kLong;
    case DType::I32: return torch::kInt;
    case DType::I16: return torch::kShort;
    case DType::I8: return torch::kChar;
    case DType::U8: return torch::kByte;
    case DType::BOOL: return torch::kBool;
  }
  return torch::kFloat;
}

DType from_scalar(torch::ScalarType s, const std::string& name) {
  switch (s) {
    case torch::kDouble: return DType::F64;
    case torch::kFloat: return DType::F32;
    case torch::kHalf: return DType::F16;
    case torch::kBFloat16: return DType::BF16;
    case torch::kLong: return DType::I64;
    case torch::kInt: return DType::I32;
    case torch::kShort: return DType::I16;
    case torch::kChar: return DType::I8;
    case torch::kByte: return DType::U8;
    case torch::kBool: return DType::BOOL;
    default: throw Error(name + ": dtype " + std::string(c10::toString(s)) + " cannot be written to safetensors");
  }
}

bool storage_scalar(const std::string& type, torch::ScalarType& out) {
  static const std::map<std::string, torch::ScalarType> k = {
      {"FloatStorage", torch::kFloat},  {"DoubleStorage", torch::kDouble}, {"HalfStorage", torch::kHalf},
      {"BFloat16Storage", torch::kBFloat16}, {"LongStorage", torch::kLong}, {"IntStorage", torch::kInt},
      {"ShortStorage", torch::kShort},  {"CharStorage", torch::kChar},     {"ByteStorage", torch::kByte},
      {"BoolStorage", torch::kBool}};
  auto it = k.find(type);
  if (it == k.end()) return false;
  out = it->second;
  return true;
}

bool starts_with_zip(const std::string& path) {
  auto m = MappedFile::open(path);
  return m->size() >= 4 && std::memcmp(m->data(), "PK\x03\x04", 4) == 0;
}

}  // namespace

StateDict read_safetensors(const std::string& path) {
  auto file = MappedFile::open(path);
  SafetensorsHeader h = parse_safetensors_header(file->data(), file->size(), path);
  StateDict sd;
  sd.format = "safetensors";
  sd.source = path;
  for (const auto& e : h.tensors) {
    auto opts = torch::TensorOptions().dtype(to_scalar(e.dtype));
    const unsigned char* p = file->data() + h.data_start + e.begin;
    // Zero-copy view of the mapping; the deleter keeps the file mapped while the tensor lives.
    // Readers copy into parameters, never write through it (the mapping is read-only).
    auto t = torch::from_blob(const_cast<unsigned char*>(p), e.shape, [file](void*) {}, opts);
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(e.dtype) != 0) t = t.clone();  // unaligned data section
    sd.tensors.emplace_back(e.name, t);
  }
  return sd;
}

StateDict read_pytorch_bin(const std::string& path) {
  if (!starts_with_zip(path))
    fail(path, "", "not a zip archive: only torch.save's zip format (PyTorch >= 1.6) is read; "
                   "re-save it with torch.save or convert it to safetensors");
  StateDict sd;
  sd.format = "pytorch_bin";
  sd.source = path;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("data.pkl")) fail(path, "data.pkl", "missing: not a torch.save archive");
    auto [pkl, pkl_size] = reader.getRecord("data.pkl");
    auto entries = parse_state_dict_pickle(static_cast<const unsigned char*>(pkl.get()), pkl_size, path);
    std::map<std::string, torch::Tensor> storages;
    for (const auto& e : entries) {
      torch::ScalarType st;
      if (!storage_scalar(e.storage_type, st)) fail(path, e.name, "unsupported storage type " + e.storage_type);
      auto& storage = storages[e.storage_key];
      if (!storage.defined()) {
        std::string rec = "data/" + e.storage_key;
        if (!reader.hasRecord(rec)) fail(path, e.name, "storage record " + rec + " missing");
        auto [ptr, size] = reader.getRecord(rec);
        int64_t elem = static_cast<int64_t>(c10::elementSize(st));
        if (static_cast<int64_t>(size) != e.storage_numel * elem)
          fail(path, e.name, "storage " + rec + " holds " + std::to_string(size) + " bytes, expected " +
                                 std::to_string(e.storage_numel * elem));
        storage = torch::empty({e.storage_numel}, torch::TensorOptions().dtype(st));
        std::memcpy(storage.data_ptr(), ptr.get(), size);
      }
      // Bounds: the furthest element addressed must lie inside the storage.
      int64_t extent = e.offset;
      for (size_t d = 0; d < e.shape.size(); ++d) {
        if (e.shape[d] < 0 || (d < e.stride.size() && e.stride[d] < 0)) fail(path, e.name, "negative size or stride");
        if (e.shape[d] == 0) { extent = -1; break; }
        extent += (e.shape[d] - 1) * (d < e.stride.size() ? e.stride[d] : 0);
      }
      if (e.shape.size() != e.stride.size() || e.offset < 0 || extent >= storage.numel())
        fail(path, e.name, "tensor view lies outside its storage");
      sd.tensors.emplace_back(e.name, storage.as_strided(e.shape, e.stride, e.offset));
    }
  } catch (const c10::Error& err) {
    fail(path, "", std::string("cannot read torch.save archive: ") + err.what_without_backtrace());
  }
  return sd;
}

StateDict read_torchscript(const std::string& path) {
  StateDict sd;
  sd.format = "torchscript";
  sd.source = path;
  torch::jit::ExtraFilesMap extra{{"config.json", ""}};
  torch::jit::Module m;
  try {
    m = torch::jit::load(path, torch::kCPU, extra);
  } catch (const c10::Error& err) {
    fail(path, "", std::string("cannot load TorchScript archive: ") + err.what_without_backtrace());
  }
  for (const auto& p : m.named_parameters(true)) sd.tensors.emplace_back(p.name, p.value.detach());
  for (const auto& b : m.named_buffers(true)) sd.tensors.emplace_back(b.name, b.value.detach());
  if (!extra["config.json"].empty()) sd.config_json = extra["config.json"];
  return sd;
}

StateDict read_state_dict(const std::string& path) {
  if (!file_exists(path)) fail(path, "", "checkpoint file not found");
  if (!starts_with_zip(path)) return read_safetensors(path);
  bool torchscript = false;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    torchscript = reader.hasRecord("constants.pkl");
  } catch (const c10::Error& err) {
    fail(path, "", std::string("not a readable zip archive: ") + err.what_without_backtrace());
  }
  return torchscript ? read_torchscript(path) : read_pytorch_bin(path);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorEntry> entries;
  std::vector<std::string> blobs;
  for (const auto& [name, t] : tensors) {
    auto c = t.detach().to(torch::kCPU).contiguous();
    TensorEntry e;
    e.name = name;
    e.dtype = from_scalar(c.scalar_type(), name);
    e.shape = c.sizes().vec();
    entries.push_back(e);
    blobs.emplace_back(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  }
  write_file_atomic(path, build_safetensors(entries, blobs, metadata));
}

}  // namespace lntune
