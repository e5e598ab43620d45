#include "train/precision.h"

#include <torch/cuda.h>
#ifdef LNTUNE_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "models/extensions.h"
#include "train/run_state.h"
#include "util/error.h"

namespace lntune {

// The autocast API changed in PyTorch 2.4 (device-typed setters); 1.13 (Debian) has the old one.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LNTUNE_AUTOCAST_V2 1
#endif

namespace {
bool cuda_autocast_enabled() {
#ifdef LNTUNE_AUTOCAST_V2
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}
void set_cuda_autocast(bool on, at::ScalarType dtype) {
#ifdef LNTUNE_AUTOCAST_V2
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(on);
#endif
}
at::ScalarType cuda_autocast_dtype() {
#ifdef LNTUNE_AUTOCAST_V2
  return at::autocast::get_autocast_dtype(at::kCUDA);
#else
  return at::autocast::get_autocast_gpu_dtype();
#endif
}
}  // namespace

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

double peak_memory_mb(const torch::Device& device) {
#ifdef LNTUNE_WITH_CUDA
  if (device.is_cuda())
    return static_cast<double>(
               c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0).allocated_bytes[0].peak) /
           (1024.0 * 1024.0);
#endif
  (void)device;
  return peak_rss_mb();
}

torch::Device resolve_device(const std::string& name, const std::string& source, const std::string& field) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name == "auto") {
    if (torch::cuda::is_available()) return torch::kCUDA;
    if (name == "cuda") fail(source, field, "cuda was asked for, but LibTorch sees no GPU");
    return torch::kCPU;
  }
  fail(source, field, "'" + name + "' is not one of auto, cpu, cuda");
}

AutocastGuard::AutocastGuard(bool bf16, const torch::Device& device) {
  if (!bf16 || !device.is_cuda()) return;
  active_ = true;
  prev_enabled_ = cuda_autocast_enabled();
  prev_dtype_ = cuda_autocast_dtype();
  set_cuda_autocast(true, at::kBFloat16);
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  set_cuda_autocast(prev_enabled_, prev_dtype_);
  at::autocast::clear_cache();
}

int64_t store_frozen_projections_bf16(torch::nn::Module& model) {
  torch::NoGradGuard g;
  int64_t n = 0;
  for (const auto& m : model.modules()) {
    auto proj = std::dynamic_pointer_cast<ProjectionImpl>(m);
    if (!proj) continue;
    for (auto& p : proj->parameters(/*recurse=*/false)) {
      if (p.requires_grad() || p.scalar_type() != at::kFloat) continue;
      p.set_data(p.to(at::kBFloat16));
      n += p.numel();
    }
  }
  return n;
}

}  // namespace lntune
