// One AdamW element update (decoupled weight decay, Loshchilov & Hutter), shared by the CPU loop
// (adamw_cpu.cpp) and the CUDA kernel (adamw.cu) so that both round alike. It is the fp32
// operation sequence that torch's per-tensor ops make on the CPU in src/train/adamw.cpp's `torch`
// path (mul_, add_, addcmul_, sqrt, div, add_, addcdiv_), with no fused multiply-adds: the CPU
// file is compiled with -ffp-contract=off and the CUDA one with --fmad=false (cmake/kernels.cmake,
// cmake/cuda.cmake). No LibTorch, no CUDA header.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define LNTUNE_HOST_DEVICE __host__ __device__
#else
#define LNTUNE_HOST_DEVICE
#endif

namespace lntune::kernels {

// The step's scalars, computed once on the host in double and rounded to fp32 as torch rounds a
// Scalar argument for an fp32 tensor.
struct AdamWScalars {
  float decay_factor = 1;  // 1 - lr * weight_decay (1: no decay)
  float beta1 = 0.9f, one_minus_beta1 = 0.1f;
  float beta2 = 0.999f, one_minus_beta2 = 0.001f;
  float sqrt_bias_correction2 = 1;  // sqrt(1 - beta2^t)
  float eps = 1e-8f;
  float step_size = 0;  // -lr / (1 - beta1^t)
};
// Plain floats, so that a float32 tensor of this many elements can hold one (AdamW's scalars kept
// on the device for CUDA graphs, src/train/adamw.cpp).
constexpr int kAdamWScalarFloats = 8;
static_assert(sizeof(AdamWScalars) == kAdamWScalarFloats * sizeof(float), "AdamWScalars must be plain floats");

inline AdamWScalars adamw_scalars(double lr, double weight_decay, double beta1, double beta2, double eps, int64_t step) {
  AdamWScalars s;
  s.decay_factor = static_cast<float>(1 - lr * weight_decay);
  s.beta1 = static_cast<float>(beta1);
  s.one_minus_beta1 = static_cast<float>(1 - beta1);
  s.beta2 = static_cast<float>(beta2);
  s.one_minus_beta2 = static_cast<float>(1 - beta2);
  s.sqrt_bias_correction2 = static_cast<float>(std::sqrt(1 - std::pow(beta2, static_cast<double>(step))));
  s.eps = static_cast<float>(eps);
  s.step_size = static_cast<float>(-lr / (1 - std::pow(beta1, static_cast<double>(step))));
  return s;
}

LNTUNE_HOST_DEVICE inline void adamw_element(float& p, float g, float& m, float& v, const AdamWScalars& s) {
  p = p * s.decay_factor;                                  // p.mul_(1 - lr * wd)
  m = m * s.beta1 + s.one_minus_beta1 * g;                 // m.mul_(b1).add_(g, 1 - b1)
  v = v * s.beta2 + s.one_minus_beta2 * g * g;             // v.mul_(b2).addcmul_(g, g, 1 - b2)
  const float denom = sqrtf(v) / s.sqrt_bias_correction2 + s.eps;  // (v.sqrt() / sqrt(bc2)).add_(eps)
  p = p + s.step_size * m / denom;                         // p.addcdiv_(m, denom, -lr / bc1)
}

}  // namespace lntune::kernels
