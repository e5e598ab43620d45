// Scalar helpers for the CPU kernels, written so that GCC vectorises the loops that call them
// (no libm calls, no branches: selects only). Included by kernels/*/*_cpu.cpp, which are compiled
// once per instruction set (see cmake/kernels.cmake).
#pragma once
#include <cstdint>
#include <cstring>

#include "common.h"

namespace lntune::kernels::cpu {

// bfloat16 storage: the upper half of an fp32, same layout as c10::BFloat16.
struct Bf16 {
  uint16_t bits;
};

inline float load(float v) { return v; }
inline float load(Bf16 v) {
  uint32_t u = static_cast<uint32_t>(v.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

template <typename T>
inline T store(float v);
template <>
inline float store<float>(float v) {
  return v;
}
template <>
inline Bf16 store<Bf16>(float v) {
  // Round to nearest even, as c10::BFloat16 does; NaN stays a quiet NaN.
  uint32_t u;
  std::memcpy(&u, &v, 4);
  uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  return Bf16{static_cast<uint16_t>(nan ? 0x7fc0u : rounded)};
}

// exp(-z) for z >= 0 (clamped at 60, where it is below fp32's normal range of interest for tanh):
// Cody-Waite reduction by ln 2, degree-7 Taylor polynomial on |r| <= ln2/2 (relative error ~5e-9),
// scaled by 2^n built in the exponent bits.
inline float exp_neg(float z) {
  z = z < 60.f ? z : 60.f;
  float t = -z * 1.44269504088896341f;
  float n = (t + 12582912.f) - 12582912.f;  // round to nearest integer (1.5 * 2^23 trick)
  float r = -z - n * 0.693145751953125f - n * 1.428606765330187045e-06f;
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

// tanh in fp32 to ~2e-7 absolute: an odd Taylor polynomial below |y| = 0.25 (where (1-e)/(1+e)
// would cancel), (1 - e^{-2|y|}) / (1 + e^{-2|y|}) above, sign restored; NaN passes through.
inline float tanh_f(float y) {
  float a = y < 0.f ? -y : y;
  float e = exp_neg(2.f * a);
  float big = (1.f - e) / (1.f + e);
  float y2 = y * y;
  float small = a * (1.f + y2 * (-1.f / 3.f + y2 * (2.f / 15.f + y2 * (-17.f / 315.f + y2 * (62.f / 2835.f)))));
  float m = a < 0.25f ? small : big;
  float r = y < 0.f ? -m : m;
  return y != y ? y : r;
}

// Calls f with typed null pointers for the storage types (xt, pt) of a CPU kernel: f32 or bf16
// activations, f32 or bf16 parameters. float16 is upcast by the binding before it gets here.
template <typename F>
void with_storage(DType xt, DType pt, F&& f) {
  if (xt == DType::f32 && pt == DType::f32) return f(static_cast<float*>(nullptr), static_cast<float*>(nullptr));
  if (xt == DType::bf16 && pt == DType::f32) return f(static_cast<Bf16*>(nullptr), static_cast<float*>(nullptr));
  if (xt == DType::bf16 && pt == DType::bf16) return f(static_cast<Bf16*>(nullptr), static_cast<Bf16*>(nullptr));
  if (xt == DType::f32 && pt == DType::bf16) return f(static_cast<float*>(nullptr), static_cast<Bf16*>(nullptr));
}

}  // namespace lntune::kernels::cpu
