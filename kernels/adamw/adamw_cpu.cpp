// Compiled with -ffp-contract=off -fno-math-errno (cmake/kernels.cmake): the loop vectorises
// (sqrtps/divps are exactly rounded) and rounds as adamw_element does anywhere else.
#include "adamw/adamw_cpu.h"

namespace lntune::kernels::cpu {

void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n, const AdamWScalars& s,
                int threads) {
  // Element-wise, so the result is the same for any thread count.
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && n >= (int64_t{1} << 16))
  for (int64_t i = 0; i < n; ++i) adamw_element(param[i], grad[i], exp_avg[i], exp_avg_sq[i], s);
}

}  // namespace lntune::kernels::cpu
