// LayerNorm on the CPU: raw pointers, rows contiguous, fp32 statistics. The entry points pick the
// AVX2 build of the loops when the processor has it (cpu_isa.h), the baseline build otherwise.
#pragma once
#include <cstdint>

#include "common.h"

namespace lntune::kernels::cpu {

// y = (x - mean) * rstd * gamma + beta over the last dimension; mean/rstd (fp32, one per row) saved.
// x/y have type xt (f32 or bf16), gamma/beta type pt (f32 or bf16).
void layernorm_forward(DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y,
                       float* mean, float* rstd, int64_t rows, int64_t cols, float eps, int threads);

// dx (type xt; null: not wanted) and the fp32 sums over rows dgamma/dbeta (null: not wanted).
// Row sums go through per-thread partials added in a fixed order: the same thread count gives the
// same bits run to run.
void layernorm_backward(DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
                        const void* gamma, void* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols,
                        int threads);

}  // namespace lntune::kernels::cpu
