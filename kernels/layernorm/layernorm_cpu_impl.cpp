// LayerNorm CPU loops, compiled once per instruction set (LNTUNE_ISA = base | avx2; see
// cmake/kernels.cmake). Rows are split over OpenMP threads; every row is walked in cache: a sum
// shifted by the row's first element, the centred variance, then the output. Centring as
// (x - x0) - (mean - x0) keeps rows with a large common offset exact in fp32 (x - x0 is exact).
#include <cmath>
#include <type_traits>
#include <vector>

#include "cpu_math.h"
#include "cpu_rows.h"
#include "layernorm/layernorm_cpu.h"
#include "layernorm/layernorm_cpu_isa.inc"

namespace lntune::kernels::cpu::LNTUNE_ISA {
namespace {

template <typename T, typename P>
void forward(const T* x, const P* gamma, const P* beta, T* y, float* mean, float* rstd, int64_t rows, int64_t cols,
             float eps, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const float x0 = load(xr[0]);
    float s = 0.f;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < cols; ++c) s += load(xr[c]) - x0;
    const float ms = s / static_cast<float>(cols);  // mean - x0
    float v = 0.f;
#pragma omp simd reduction(+ : v)
    for (int64_t c = 0; c < cols; ++c) {
      float d = (load(xr[c]) - x0) - ms;
      v += d * d;
    }
    const float rs = 1.f / std::sqrt(v / static_cast<float>(cols) + eps);
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c)
      yr[c] = store<T>(((load(xr[c]) - x0) - ms) * rs * load(gamma[c]) + load(beta[c]));
    const float m = x0 + ms;
    mean[r] = m;
    rstd[r] = rs;
  }
}

// One row's sums of g = dy * gamma (returned) and g * xhat (into b); with COLS also adds dy * xhat
// and dy to the column partials, in the same pass.
template <bool COLS, typename T, typename P>
float row_sums(const T* dyr, const T* xr, float m, float rs, const P* gamma, float* pg, float* pb, int64_t cols,
               float& b_out) {
  float a = 0.f, b = 0.f;
#pragma omp simd reduction(+ : a, b)
  for (int64_t c = 0; c < cols; ++c) {
    float d = load(dyr[c]);
    float xhat = (load(xr[c]) - m) * rs;
    float g = d * load(gamma[c]);
    a += g;
    b += g * xhat;
    if constexpr (COLS) {
      pg[c] += d * xhat;
      pb[c] += d;
    }
  }
  b_out = b;
  return a;
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma; dgamma = sum dy * xhat,
// dbeta = sum dy over rows, accumulated per thread and added in thread order.
template <typename T, typename P>
void backward(const T* dy, const T* x, const float* mean, const float* rstd, const P* gamma, T* dx, float* dgamma,
              float* dbeta, int64_t rows, int64_t cols, int threads) {
  const int n = clamp_threads(threads, rows);
  const bool params = dgamma || dbeta;
  std::vector<float> partial(params ? static_cast<size_t>(n) * 2 * cols : 0, 0.f);
#pragma omp parallel num_threads(n)
  {
    const int t = omp_get_thread_num();
    int64_t begin, end;
    row_range(rows, t, omp_get_num_threads(), begin, end);
    float* pg = params ? partial.data() + static_cast<size_t>(t) * 2 * cols : nullptr;
    float* pb = params ? pg + cols : nullptr;
    float b_out = 0.f;
    for (int64_t r = begin; r < end; ++r) {
      const T* dyr = dy + r * cols;
      const T* xr = x + r * cols;
      const float m = mean[r], rs = rstd[r];
      float a = params ? row_sums<true>(dyr, xr, m, rs, gamma, pg, pb, cols, b_out)
                       : row_sums<false>(dyr, xr, m, rs, gamma, pg, pb, cols, b_out);
      if (!dx) continue;
      a /= static_cast<float>(cols);
      const float b = b_out / static_cast<float>(cols);
      T* dxr = dx + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) {
        float xhat = (load(xr[c]) - m) * rs;
        dxr[c] = store<T>(rs * (load(dyr[c]) * load(gamma[c]) - a - xhat * b));
      }
    }
  }
  if (!params) return;
  finish_column_sums(partial, n, cols, threads, dgamma, dbeta);
}

}  // namespace

void layernorm_forward(DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y,
                       float* mean, float* rstd, int64_t rows, int64_t cols, float eps, int threads) {
  with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    forward(static_cast<const T*>(x), static_cast<const P*>(gamma), static_cast<const P*>(beta), static_cast<T*>(y),
            mean, rstd, rows, cols, eps, threads);
  });
}

void layernorm_backward(DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
                        const void* gamma, void* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols,
                        int threads) {
  with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    backward(static_cast<const T*>(dy), static_cast<const T*>(x), mean, rstd, static_cast<const P*>(gamma),
             static_cast<T*>(dx), dgamma, dbeta, rows, cols, threads);
  });
}

}  // namespace lntune::kernels::cpu::LNTUNE_ISA
