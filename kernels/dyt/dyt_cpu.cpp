// Entry points of dyt_cpu.h: argument checks and the choice of instruction set.
#include "dyt/dyt_cpu.h"

#include "cpu_isa.h"

#define LNTUNE_ISA_DECLARATIONS "dyt/dyt_cpu_isa.inc"
#include "cpu_isa_each.h"

namespace lntune::kernels::cpu {

void dyt_forward(DType xt, DType pt, const void* x, const void* alpha, const void* gamma, const void* beta, void* y,
                 int64_t rows, int64_t cols, int threads) {
  check_cpu_args("dyt", xt, pt, rows, cols);
  if (rows == 0) return;
  LNTUNE_CPU_DISPATCH(dyt_forward(xt, pt, x, alpha, gamma, beta, y, rows, cols, threads));
}

void dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma, void* dx,
                  float* dalpha, float* dgamma, float* dbeta, int64_t rows, int64_t cols, int threads) {
  check_cpu_args("dyt", xt, pt, rows, cols);
  if (rows == 0) {
    if (dalpha) dalpha[0] = 0.f;
    zero_column_sums(cols, dgamma, dbeta);
    return;
  }
  LNTUNE_CPU_DISPATCH(dyt_backward(xt, pt, dy, x, alpha, gamma, dx, dalpha, dgamma, dbeta, rows, cols, threads));
}

}  // namespace lntune::kernels::cpu
