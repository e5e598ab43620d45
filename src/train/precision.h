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

// Stores every frozen projection weight and bias (the matmul operands: nearly all of a PEFT
// model's parameters) in bf16, in place. Under bf16 autocast those are cast to bf16 at every
// use anyway — autocast caches casts only of tensors that require grad — so keeping them in
// bf16 removes a cast kernel per projection per step and halves their memory; trainable tensors
// keep their fp32 master copies, norms and embeddings stay fp32 (autocast runs norms in fp32).
// Only for models run under bf16 autocast: outside it a bf16 weight meets fp32 activations.
// Returns the number of elements converted.
int64_t store_frozen_projections_bf16(torch::nn::Module& model);

}  // namespace lntune
