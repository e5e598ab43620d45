// Entry points of layernorm_cpu.h: argument checks and the choice of instruction set.
#include "layernorm/layernorm_cpu.h"

#include "cpu_isa.h"

#define LNTUNE_ISA_DECLARATIONS "layernorm/layernorm_cpu_isa.inc"
#include "cpu_isa_each.h"

namespace lntune::kernels::cpu {

void layernorm_forward(DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y,
                       float* mean, float* rstd, int64_t rows, int64_t cols, float eps, int threads) {
  check_cpu_args("layernorm", xt, pt, rows, cols);
  if (rows == 0) return;
  LNTUNE_CPU_DISPATCH(layernorm_forward(xt, pt, x, gamma, beta, y, mean, rstd, rows, cols, eps, threads));
}

void layernorm_backward(DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
                        const void* gamma, void* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols,
                        int threads) {
  check_cpu_args("layernorm", xt, pt, rows, cols);
  if (rows == 0) {
    zero_column_sums(cols, dgamma, dbeta);
    return;
  }
  LNTUNE_CPU_DISPATCH(layernorm_backward(xt, pt, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, rows, cols, threads));
}

}  // namespace lntune::kernels::cpu
