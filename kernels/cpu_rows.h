// Row partitioning and the deterministic reduction of per-thread column partials shared by the
// CPU norm kernels (compiled inside each ISA build).
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lntune::kernels::cpu {

// Rows [begin, end) of thread t out of n: contiguous static blocks, so which rows a thread sums
// (and the order partials are added) depends only on the thread count.
inline void row_range(int64_t rows, int t, int n, int64_t& begin, int64_t& end) {
  begin = rows * t / n;
  end = rows * (t + 1) / n;
}

// out[c] = sum over t of partial[t * stride + c], t ascending; columns split across threads.
inline void sum_partials(const float* partial, int n, int64_t stride, int64_t cols, float* out, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < cols; ++c) {
    float s = 0.f;
    for (int t = 0; t < n; ++t) s += partial[t * stride + c];
    out[c] = s;
  }
}

// Splits the summed [dgamma | dbeta] partials (n threads, 2 * cols each) into the wanted outputs.
inline void finish_column_sums(const std::vector<float>& partial, int n, int64_t cols, int threads, float* dgamma,
                               float* dbeta) {
  std::vector<float> sums(2 * cols);
  sum_partials(partial.data(), n, 2 * cols, 2 * cols, sums.data(), threads);
  if (dgamma) std::copy(sums.begin(), sums.begin() + cols, dgamma);
  if (dbeta) std::copy(sums.begin() + cols, sums.end(), dbeta);
}

inline int clamp_threads(int threads, int64_t rows) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads < 1 ? 1 : threads, rows)));
}

}  // namespace lntune::kernels::cpu
