// Device choice and bf16 autocast for training loops.
#pragma once
#include <torch/torch.h>

#include <string>

namespace lntune {

// "auto" -> CUDA when LibTorch sees a GPU, else CPU; "cuda" without a GPU is an error naming
// `field` of `source`.
torch::Device resolve_device(const std::string& name, const std::string& source, const std::string& field);

// Waits for the device's queued work (CUDA); nothing to wait for on the CPU. For timings.
void synchronize(const torch::Device& device);

// Peak memory so far, MB: the CUDA caching allocator's peak on a GPU, the process's RSS on the CPU.
double peak_memory_mb(const torch::Device& device);

// bf16 autocast on CUDA while alive (LibTorch's autocast; matmuls in bf16, reductions and
// norms in fp32, parameters and optimizer state stay fp32). Does nothing on CPU or when off.
class AutocastGuard {
 public:
  AutocastGuard(bool bf16, const torch::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kHalf;
};

}  // namespace lntune
