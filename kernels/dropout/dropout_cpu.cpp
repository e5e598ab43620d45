// Entry point of dropout_cpu.h: argument checks and the choice of instruction set.
#include "dropout/dropout_cpu.h"

#include <stdexcept>
#include <string>

#include "cpu_isa.h"

#define LNTUNE_ISA_DECLARATIONS "dropout/dropout_cpu_isa.inc"
#include "cpu_isa_each.h"

namespace lntune::kernels::cpu {

void dropout_apply(DType t, const void* x, void* y, int64_t n, double p, uint64_t seed, int threads) {
  if (t == DType::f16) throw std::invalid_argument("dropout: float16 storage is upcast by the binding");
  if (n < 0) throw std::invalid_argument("dropout: negative element count " + std::to_string(n));
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("dropout: p must be in [0, 1), got " + std::to_string(p));
  if (n == 0) return;
  LNTUNE_CPU_DISPATCH(dropout_apply(t, x, y, n, p, seed, threads));
}

}  // namespace lntune::kernels::cpu
