// LayerNorm CUDA kernels, version 2 (see layernorm.h; version 1 is layernorm.cu). What the H100
// measurements of version 1 pointed at (docs/benchmarks.md, 2026-11-24: 44-54% of copy bandwidth
// forward, 0.7-1.1x torch's fwd+bwd at hidden 768/1024):
//   - each row is read from global memory once, with 16-byte loads, and kept in registers for the
//     mean, the variance and the output (version 1: scalar loads, three passes over the row);
//   - the backward computes dx and, in the same pass, each thread's share of dgamma/dbeta, so x
//     and dy are read once (version 1 reads them again in a second kernel for the parameters);
//   - the blocks' partial sums of dgamma and dbeta are reduced by one launch (reduce_partials,
//     eight threads per column) where version 1 launches one per parameter, a thread per column.
// A row of up to 1024 elements takes one warp (8 rows per block); up to 8192 elements, a block of
// 256 threads. Other shapes (a hidden size not a multiple of 16 bytes, larger rows, misaligned
// pointers) are not handled here: the launcher falls back to version 1. Same arithmetic as version
// 1 (the row shifted by its first element for the mean, fp32 accumulation, g = dy * gamma rounded
// before use), and the parameter sums are per-block partials summed in a fixed order: run-to-run
// deterministic.
#include <cstdint>
#include <type_traits>

#include "cuda_common.cuh"
#include "layernorm/layernorm_v2.cuh"
#include "layernorm/row_share.cuh"

namespace lntune::kernels::cuda::v2 {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxPerThread = 32;  // floats of one tensor's row share a thread keeps in registers

// Sum over the TPR threads that share a row: a warp, or the whole block.
template <int TPR>
__device__ __forceinline__ float row_sum(float v) {
  if constexpr (TPR == 32) {
    return warp_sum(v);
  } else {
    return block_sum(v);
  }
}

// T: activation storage; P: parameter storage; TPR threads per row; N packs of V elements per thread.
template <typename T, typename P, int TPR, int N>
__global__ void __launch_bounds__(kThreads) forward_kernel(const T* __restrict__ x, const P* __restrict__ gamma,
                                                           const P* __restrict__ beta, T* __restrict__ y,
                                                           float* __restrict__ mean_out, float* __restrict__ rstd_out,
                                                           int64_t rows, int64_t cols, float eps) {
  constexpr int V = 16 / sizeof(T);
  constexpr int kRowsPerBlock = kThreads / TPR;
  const int t = threadIdx.x % TPR;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / TPR;
  if (row >= rows) return;  // TPR == kThreads: one row per block, so the block leaves as a whole
  const int64_t packs = cols / V;
  const T* xr = x + row * cols;
  const float x0 = to_f32(xr[0]);
  float v[N][V];
  float s = 0.f;
#pragma unroll
  for (int k = 0; k < N; ++k) {
    const int64_t i = t + static_cast<int64_t>(k) * TPR;
    if (i < packs) {
      load_pack<T, V>(xr + i * V, v[k]);
#pragma unroll
      for (int j = 0; j < V; ++j) {
        v[k][j] -= x0;
        s += v[k][j];
      }
    }
  }
  const float ms = row_sum<TPR>(s) / static_cast<float>(cols);
  float q = 0.f;
#pragma unroll
  for (int k = 0; k < N; ++k)
    if (t + static_cast<int64_t>(k) * TPR < packs)
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float d = v[k][j] - ms;
        q += d * d;
      }
  const float rs = rsqrtf(row_sum<TPR>(q) / static_cast<float>(cols) + eps);
  T* yr = y + row * cols;
#pragma unroll
  for (int k = 0; k < N; ++k) {
    const int64_t i = t + static_cast<int64_t>(k) * TPR;
    if (i < packs) {
      float g[V], b[V], o[V];
      load_pack<P, V>(gamma + i * V, g);
      load_pack<P, V>(beta + i * V, b);
#pragma unroll
      for (int j = 0; j < V; ++j) o[j] = (v[k][j] - ms) * rs * g[j] + b[j];
      store_pack<T, V>(yr + i * V, o);
    }
  }
  if (t == 0) {
    mean_out[row] = x0 + ms;
    rstd_out[row] = rs;
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma, for the rows
// blockIdx.x * R + w, stepping by gridDim.x * R; each thread also sums dy * xhat and dy over those
// rows for its columns; the block's rows' sums, added in row-slot order (write_slot_sums), give
// partial[block][0:cols] (dgamma) and partial[block][cols:2cols] (dbeta).
template <typename T, typename P, int TPR, int N>
__global__ void __launch_bounds__(kThreads) backward_kernel(const T* __restrict__ dy, const T* __restrict__ x,
                                                            const float* __restrict__ mean,
                                                            const float* __restrict__ rstd,
                                                            const P* __restrict__ gamma, T* __restrict__ dx,
                                                            float* __restrict__ partial, int64_t rows, int64_t cols) {
  constexpr int V = 16 / sizeof(T);
  constexpr int kRowsPerBlock = kThreads / TPR;
  const int t = threadIdx.x % TPR, w = threadIdx.x / TPR;
  const int64_t packs = cols / V;
  float sg[N][V], sb[N][V];
#pragma unroll
  for (int k = 0; k < N; ++k)
#pragma unroll
    for (int j = 0; j < V; ++j) sg[k][j] = sb[k][j] = 0.f;
  // Every thread of a block walks the same number of rounds (the bound is per block), so the
  // block-wide sums of TPR == kThreads see every thread.
  const int64_t step = static_cast<int64_t>(gridDim.x) * kRowsPerBlock;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock; base < rows; base += step) {
    const int64_t row = base + w;
    const bool live = row < rows;  // only with TPR == 32 can a warp of the block be past the end
    float xh[N][V], g[N][V];
    float a = 0.f, b = 0.f;
    const float m = live ? mean[row] : 0.f, rs = live ? rstd[row] : 0.f;
#pragma unroll
    for (int k = 0; k < N; ++k) {
      const int64_t i = t + static_cast<int64_t>(k) * TPR;
      if (live && i < packs) {
        float d[V], gm[V];
        load_pack<T, V>(dy + row * cols + i * V, d);
        load_pack<T, V>(x + row * cols + i * V, xh[k]);
        load_pack<P, V>(gamma + i * V, gm);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          xh[k][j] = (xh[k][j] - m) * rs;
          g[k][j] = __fmul_rn(d[j], gm[j]);  // not fused below: g - mean(g) cancels exactly
          a += g[k][j];
          b += g[k][j] * xh[k][j];
          sg[k][j] += d[j] * xh[k][j];
          sb[k][j] += d[j];
        }
      }
    }
    a = row_sum<TPR>(a) / static_cast<float>(cols);
    b = row_sum<TPR>(b) / static_cast<float>(cols);
    if (dx && live)
      store_share<T, N, V>(dx + row * cols, t, TPR, packs,
                           [&](int k, int j) { return rs * (g[k][j] - a - xh[k][j] * b); });
  }
  if (partial) {
    float* pg = partial + static_cast<int64_t>(blockIdx.x) * 2 * cols;
    write_slot_sums<N, V>(sg, sb, t, TPR, packs, cols, pg, pg + cols);  // TPR == kThreads: one slot
  }
}

// Calls f(integral_constant<TPR>, integral_constant<N>) for the smallest layout that holds a row
// of `cols` elements of T within kMaxPerThread floats per thread; false when none does. N = 3 and
// 6 are there for hidden 768 (BERT-base), whose row is 3 packs per lane in 16-bit types and 6 in
// fp32: with N = 4 / 8 a quarter of the registers held nothing, and the backward took 159-163
// registers per thread (ptxas, sm_90), one 256-thread block per multiprocessor; with 3 / 6 it
// takes 128, two blocks.
template <typename T, typename F>
bool with_layout(int64_t cols, F&& f) {
  constexpr int V = 16 / sizeof(T);
  if (cols % V != 0) return false;
  const int64_t packs = cols / V;
  auto per = [&](auto tpr) {
    constexpr int TPR = decltype(tpr)::value;
    if (packs <= TPR * 1) return f(tpr, std::integral_constant<int, 1>{}), true;
    if (packs <= TPR * 2) return f(tpr, std::integral_constant<int, 2>{}), true;
    if (packs <= TPR * 3) return f(tpr, std::integral_constant<int, 3>{}), true;
    if (packs <= TPR * 4) return f(tpr, std::integral_constant<int, 4>{}), true;
    if constexpr (8 * V <= kMaxPerThread) {
      if (packs <= TPR * 6) return f(tpr, std::integral_constant<int, 6>{}), true;
      if (packs <= TPR * 8) return f(tpr, std::integral_constant<int, 8>{}), true;
    }
    return false;
  };
  return per(std::integral_constant<int, 32>{}) || per(std::integral_constant<int, kThreads>{});
}

}  // namespace

bool forward(DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y, float* mean,
             float* rstd, int64_t rows, int64_t cols, float eps, cudaStream_t stream) {
  bool launched = false;
  with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    if (!aligned16(x, y, gamma, beta)) return;
    launched = with_layout<T>(cols, [&](auto tpr, auto n) {
      constexpr int TPR = decltype(tpr)::value, N = decltype(n)::value;
      const int64_t per_block = kThreads / TPR;
      launch(forward_kernel<T, P, TPR, N>, static_cast<unsigned>((rows + per_block - 1) / per_block), kThreads, stream)(
          static_cast<const T*>(x), static_cast<const P*>(gamma), static_cast<const P*>(beta), static_cast<T*>(y), mean,
          rstd, rows, cols, eps);
    });
  });
  return launched;
}

bool backward(DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
              const void* gamma, void* dx, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
              cudaStream_t stream) {
  bool launched = false;
  with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    if (!aligned16(dy, x, dx, gamma)) return;
    const bool params = dgamma || dbeta;
    auto* partial = params ? static_cast<float*>(workspace) : nullptr;
    launched = with_layout<T>(cols, [&](auto tpr, auto n) {
      constexpr int TPR = decltype(tpr)::value, N = decltype(n)::value;
      const int64_t per_block = kThreads / TPR, need = (rows + per_block - 1) / per_block;
      int64_t blocks = 2 * static_cast<int64_t>(multiprocessors());
      if (blocks > reduction_chunks(rows)) blocks = reduction_chunks(rows);
      if (blocks > need) blocks = need;
      launch(backward_kernel<T, P, TPR, N>, static_cast<unsigned>(blocks), kThreads, stream)(
          static_cast<const T*>(dy), static_cast<const T*>(x), mean, rstd, static_cast<const P*>(gamma),
          static_cast<T*>(dx), partial, rows, cols);
      if (params)
        launch(reduce_partials<P>, reduce_partials_blocks(2 * cols), dim3(kPartialColumns, kPartialLanes), stream)(
            partial, static_cast<int>(blocks), 2 * cols, cols, static_cast<P*>(dgamma), static_cast<P*>(dbeta),
            nullptr);
    });
  });
  return launched;
}

}  // namespace lntune::kernels::cuda::v2
