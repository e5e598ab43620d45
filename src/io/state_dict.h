// Reading named tensors from the three checkpoint formats, and writing safetensors.
#pragma once
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lntune {

struct StateDict {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::string format;  // "torchscript" | "safetensors" | "pytorch_bin"
  std::string source;  // the file read
  std::optional<std::string> config_json;  // config.json stored inside the archive (TorchScript)
};

StateDict read_safetensors(const std::string& path);
StateDict read_pytorch_bin(const std::string& path);
StateDict read_torchscript(const std::string& path);
// Chooses by content: safetensors header, TorchScript zip (code/ + constants.pkl), torch.save zip.
StateDict read_state_dict(const std::string& path);

// Atomic (temp file + rename); tensors are written contiguous, in the given order.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lntune
