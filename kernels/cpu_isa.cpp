#include "cpu_isa.h"

#include <stdexcept>
#include <string>

namespace lntune::kernels::cpu {

bool cpu_has_avx2() {
#ifdef LNTUNE_KERNELS_AVX2
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
#else
  return false;
#endif
}

const char* cpu_isa() { return cpu_has_avx2() ? "avx2" : "baseline"; }

void check_cpu_args(const char* op, DType xt, DType pt, int64_t rows, int64_t cols) {
  if (xt == DType::f16 || pt == DType::f16)
    throw std::invalid_argument(std::string("cpu ") + op + ": float16 storage is not supported (the binding upcasts it)");
  if (rows < 0 || cols <= 0)
    throw std::invalid_argument(std::string("cpu ") + op + ": bad shape " + std::to_string(rows) + " x " + std::to_string(cols));
}

void zero_column_sums(int64_t cols, float* dgamma, float* dbeta) {
  for (int64_t c = 0; c < cols; ++c) {
    if (dgamma) dgamma[c] = 0.f;
    if (dbeta) dbeta[c] = 0.f;
  }
}

}  // namespace lntune::kernels::cpu
