// DyT CPU loops, compiled once per instruction set (see cmake/kernels.cmake): one pass over x for
// the forward, one over (x, dy) for every gradient; tanh from cpu_math.h so the loops vectorise.
#include <type_traits>
#include <vector>

#include "cpu_math.h"
#include "cpu_rows.h"
#include "dyt/dyt_cpu.h"
#include "dyt/dyt_cpu_isa.inc"

namespace lntune::kernels::cpu::LNTUNE_ISA {
namespace {

template <typename T, typename P>
void forward(const T* x, const P* alpha, const P* gamma, const P* beta, T* y, int64_t rows, int64_t cols, int threads) {
  const float a = load(alpha[0]);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) {
      const float xv = load(xr[c]), g = load(gamma[c]), b = load(beta[c]);
      yr[c] = store<T>(g * tanh_f(a * xv) + b);
    }
  }
}

// One row: t = tanh(alpha x); dt = dy * gamma * (1 - t^2); dx = alpha dt; returns sum dt x (this
// row's share of dalpha) and adds dy t, dy to the column partials. DX/COLS drop the unwanted parts.
template <bool DX, bool COLS, typename T, typename P>
float backward_row(const T* dyr, const T* xr, float a, const P* gamma, T* dxr, float* pg, float* pb, int64_t cols) {
  float ra = 0.f;
#pragma omp simd reduction(+ : ra)
  for (int64_t c = 0; c < cols; ++c) {
    float xv = load(xr[c]), d = load(dyr[c]);
    float th = tanh_f(a * xv);
    float dt = d * load(gamma[c]) * (1.f - th * th);
    if constexpr (DX) dxr[c] = store<T>(a * dt);
    if constexpr (COLS) {
      pg[c] += d * th;
      pb[c] += d;
    }
    ra += dt * xv;
  }
  return ra;
}

template <typename T, typename P>
void backward(const T* dy, const T* x, const P* alpha, const P* gamma, T* dx, float* dalpha, float* dgamma,
              float* dbeta, int64_t rows, int64_t cols, int threads) {
  const float a = load(alpha[0]);
  const int n = clamp_threads(threads, rows);
  const bool cols_wanted = dgamma || dbeta;
  const int64_t stride = 2 * cols;
  std::vector<float> partial(cols_wanted ? static_cast<size_t>(n) * stride : 0, 0.f);
  std::vector<float> partial_alpha(static_cast<size_t>(n), 0.f);
  auto row = dx ? (cols_wanted ? backward_row<true, true, T, P> : backward_row<true, false, T, P>)
                : (cols_wanted ? backward_row<false, true, T, P> : backward_row<false, false, T, P>);
#pragma omp parallel num_threads(n)
  {
    const int t = omp_get_thread_num();
    int64_t begin, end;
    row_range(rows, t, omp_get_num_threads(), begin, end);
    float* pg = cols_wanted ? partial.data() + static_cast<size_t>(t) * stride : nullptr;
    float* pb = cols_wanted ? pg + cols : nullptr;
    float sa = 0.f;
    for (int64_t r = begin; r < end; ++r)
      sa += row(dy + r * cols, x + r * cols, a, gamma, dx ? dx + r * cols : nullptr, pg, pb, cols);
    partial_alpha[t] = sa;
  }
  if (dalpha) {
    float s = 0.f;
    for (int t = 0; t < n; ++t) s += partial_alpha[t];
    dalpha[0] = s;
  }
  if (!cols_wanted) return;
  finish_column_sums(partial, n, cols, threads, dgamma, dbeta);
}

}  // namespace

void dyt_forward(DType xt, DType pt, const void* x, const void* alpha, const void* gamma, const void* beta, void* y,
                 int64_t rows, int64_t cols, int threads) {
  with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    forward(static_cast<const T*>(x), static_cast<const P*>(alpha), static_cast<const P*>(gamma),
            static_cast<const P*>(beta), static_cast<T*>(y), rows, cols, threads);
  });
}

void dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma, void* dx,
                  float* dalpha, float* dgamma, float* dbeta, int64_t rows, int64_t cols, int threads) {
  with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    backward(static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const P*>(alpha),
             static_cast<const P*>(gamma), static_cast<T*>(dx), dalpha, dgamma, dbeta, rows, cols, threads);
  });
}

}  // namespace lntune::kernels::cpu::LNTUNE_ISA
