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

// tanh in fp32 as a rational function: x P(x^2) / Q(x^2) on |x| <= 9.5 (beyond it fp32 tanh is
// +-1, and the clamp makes the quotient give that), coefficients from scripts/fit_tanh.py (4e-8
// relative error of the fit). Evaluated in fp32 by Horner without FMA, its relative error is at
// most 4.3e-7 over every fp32 input (about 7 units in the last place, at |x| ~ 7; 1.9e-7 absolute
// below |x| = 1; DytKernel.CpuTanhOnEveryInstructionSet checks it). Half the work of the
// exp-based form it replaced (Cody-Waite exp, a polynomial for small |x|, a select; 1.9e-7
// relative), which kept the DyT loops compute-bound. NaN passes through; the selects become
// vector blends.
inline float tanh_f(float y) {
  const float c = 9.5f;
  float x = y < -c ? -c : (y > c ? c : y);
  float s = x * x;
  float p = 1.2425467e-08f;
  p = p * s + 1.9917528e-05f;
  p = p * s + 3.4527679e-03f;
  p = p * s + 1.3344748e-01f;
  p = p * s + 1.f;
  float q = 7.3898775e-07f;
  q = q * s + 3.2161418e-04f;
  q = q * s + 2.571336e-02f;
  q = q * s + 4.6678054e-01f;
  q = q * s + 1.f;
  float r = x * p / q;
  r = r > 1.f ? 1.f : (r < -1.f ? -1.f : r);  // rounding takes it to 1 + 1 ulp near |x| = 8
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
