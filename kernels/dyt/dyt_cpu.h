// DyT on the CPU: y = gamma * tanh(alpha * x) + beta, alpha one scalar (arXiv 2503.10622).
// Raw pointers, rows contiguous, fp32 arithmetic; AVX2 build picked at run time (cpu_isa.h).
#pragma once
#include <cstdint>

#include "common.h"

namespace lntune::kernels::cpu {

// x/y type xt (f32 or bf16); alpha/gamma/beta type pt (f32 or bf16).
void dyt_forward(DType xt, DType pt, const void* x, const void* alpha, const void* gamma, const void* beta, void* y,
                 int64_t rows, int64_t cols, int threads);

// dx (type xt) and fp32 dalpha (one value), dgamma, dbeta; any output may be null (not wanted).
// tanh is recomputed from x rather than saved. Sums over rows use per-thread partials added in a
// fixed order: deterministic for a given thread count.
void dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma, void* dx,
                  float* dalpha, float* dgamma, float* dbeta, int64_t rows, int64_t cols, int threads);

}  // namespace lntune::kernels::cpu
