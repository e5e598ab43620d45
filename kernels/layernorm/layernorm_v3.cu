// LayerNorm CUDA kernels, versions 3 and 4 (see layernorm/versions.h; version 1 is layernorm.cu,
// version 2 layernorm_v2.cu). What the second H100 lease measured of version 2 (docs/benchmarks.md,
// 2026-11-24, device time): fwd+bwd 1.96x torch at 16384 x 768 bf16 but 1.28x at 16384 x 1024
// and 1.09x at 4096 x 768; the backward alone 25 us at 4096 x 768 bf16 for 18 MB (the forward
// 6 us for 12 MB); the bf16 forward at 71-82% of copy bandwidth. From version 2's code:
//   - its backward keeps one warp's row share of x, g = dy * gamma and the dgamma/dbeta sums in
//     registers: 128 registers per thread at hidden 768 in 16-bit types (3 packs per lane) and
//     more at 1024 (4 packs), so one or two 256-thread blocks per multiprocessor;
//   - its backward grid is capped at rows / 32 blocks: 128 at 4096 rows, fewer than the H100's
//     132 multiprocessors, each block's eight warps walking four rounds, each round waiting on its
//     loads;
//   - every row reloads gamma (and beta) from L1 (or L2).
// Here:
//   - a row is shared by `tpr` threads, as many warps as hold its 16-byte packs one per thread
//     (two past 256 packs), e.g. 96 threads at hidden 768 in 16-bit types; rows of several warps
//     meet in shared memory for their sums (row_sums). Rows past 512 packs (hidden 4096 in 16-bit
//     types, 2048 in fp32) stay with version 2: four packs a thread with gamma held took 213
//     registers in the backward (ptxas, sm_90), version 2's layout 165;
//   - the grid is persistent: each block loops over rows with gamma (and beta) in registers;
//   - version 3, where a thread holds one pack (hidden up to 2048 in 16-bit types, 1024 in fp32),
//     loads its next row while it works on the current one, so its loads are always in flight:
//     blocks of up to 512 threads, as many as the registers let fit (the backward, ~100 registers
//     in 16-bit types, one per multiprocessor). Version 4 is the same without the prefetch:
//     blocks of up to 256 threads, more of them. Which wins is for bench-norm to say;
//   - the backward launches partial_blocks (about 1024 threads per multiprocessor: each block's
//     dgamma/dbeta sums are a partial row to write and reduce), the forward as many as fit.
// A block is per_block = 256 / tpr rows of tpr threads (512 / tpr with the prefetch): 160 threads
// at the fewest (tpr 160), so never fewer than the kPartialMinThreads the workspace is sized by.
// Rows that are not whole packs, wider than these layouts, or misaligned pointers: the launchers
// decline (the caller runs version 2). Same arithmetic as versions 1 and 2 (the row shifted by its
// first element for the mean, fp32 accumulation, g = dy * gamma rounded before use), and the
// parameter sums are per-block partials added in a fixed order: run-to-run deterministic.
#include <cstdint>
#include <type_traits>

#include "cuda_common.cuh"
#include "layernorm/layernorm_v3.cuh"
#include "layernorm/row_share.cuh"

namespace lntune::kernels::cuda::v3 {
namespace {

constexpr int kMaxTpr = 256;  // threads sharing a row, at most

// Threads per block: a prefetching thread holds few values, so twice as many fit.
template <bool Prefetch>
constexpr int kBlockThreads = Prefetch ? 512 : 256;

// Sums each of v[0..K) over the tpr threads sharing this thread's row (tpr a multiple of 32: one
// warp, or tpr / 32 consecutive warps). Across warps the sums meet in shared memory and are added
// in warp order, so every thread of a row gets the same bits. The two halves of `part` alternate
// between calls (`parity`), so one barrier per call is enough: a half is written again two calls
// later, after every thread has passed the barrier of the call between, so after its reads.
// Every thread of the block calls it the same number of times.
template <int K>
__device__ __forceinline__ void row_sums(float (&v)[K], int tpr, int& parity) {
#pragma unroll
  for (int i = 0; i < K; ++i) v[i] = warp_sum(v[i]);
  if (tpr == 32) return;
  __shared__ float part[2][K][kBlockThreads<true> / 32];
  const int warp = threadIdx.x / 32, first = warp / (tpr / 32) * (tpr / 32);
  if (threadIdx.x % 32 == 0)
#pragma unroll
    for (int i = 0; i < K; ++i) part[parity][i][warp] = v[i];
  __syncthreads();
#pragma unroll
  for (int i = 0; i < K; ++i) {
    float s = 0.f;
    for (int w = first; w < first + tpr / 32; ++w) s += part[parity][i][w];
    v[i] = s;
  }
  parity ^= 1;
}

// T: activation storage; P: parameter storage; N packs per thread; Prefetch: the next row's share
// loaded before the current one is used. Rows blockIdx.x * per_block + slot, stepping by
// gridDim.x * per_block; every thread of a block walks the same number of rounds (row_sums).
template <typename T, typename P, int N, bool Prefetch>
__global__ void __launch_bounds__(kBlockThreads<Prefetch>, Prefetch ? 2 : 1)
    forward_kernel(const T* __restrict__ x, const P* __restrict__ gamma, const P* __restrict__ beta, T* __restrict__ y,
                   float* __restrict__ mean_out, float* __restrict__ rstd_out, int64_t rows, int64_t cols, float eps,
                   int tpr) {
  constexpr int V = 16 / sizeof(T);
  const int t = threadIdx.x % tpr, per_block = blockDim.x / tpr;
  const int64_t packs = cols / V, step = static_cast<int64_t>(gridDim.x) * per_block;
  float g[N][V] = {}, b[N][V] = {};
  load_share<P, N, V>(gamma, t, tpr, packs, g);
  load_share<P, N, V>(beta, t, tpr, packs, b);
  int64_t row = static_cast<int64_t>(blockIdx.x) * per_block + threadIdx.x / tpr;
  Pack<T, V> raw[N] = {};  // Prefetch: the next row's share, as stored
  float next_x0 = 0.f;
  if (Prefetch && row < rows) {
    load_raw<T, N, V>(x + row * cols, t, tpr, packs, raw);
    next_x0 = to_f32(x[row * cols]);
  }
  int parity = 0;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * per_block; base < rows; base += step, row += step) {
    const bool live = row < rows;
    const int64_t next = row + step;
    float v[N][V] = {}, x0 = 0.f;
    if constexpr (Prefetch) {
      widen(raw, v);
      x0 = next_x0;
      if (next < rows) {
        load_raw<T, N, V>(x + next * cols, t, tpr, packs, raw);
        next_x0 = to_f32(x[next * cols]);
      }
    } else if (live) {
      load_share<T, N, V>(x + row * cols, t, tpr, packs, v);
      x0 = to_f32(x[row * cols]);
    }
    const int64_t held = live ? packs : 0;  // a thread past the last row adds nothing to the sums
    float s[1] = {0.f}, q[1] = {0.f};
    each_held<N, V>(t, tpr, held, [&](int k, int j, int64_t) {
      v[k][j] -= x0;
      s[0] += v[k][j];
    });
    row_sums(s, tpr, parity);
    const float ms = s[0] / static_cast<float>(cols);
    each_held<N, V>(t, tpr, held, [&](int k, int j, int64_t) {
      const float d = v[k][j] - ms;
      q[0] += d * d;
    });
    row_sums(q, tpr, parity);
    const float rs = rsqrtf(q[0] / static_cast<float>(cols) + eps);
    if (live) {
      store_share<T, N, V>(y + row * cols, t, tpr, packs,
                           [&](int k, int j) { return (v[k][j] - ms) * rs * g[k][j] + b[k][j]; });
      if (t == 0) {
        mean_out[row] = x0 + ms;
        rstd_out[row] = rs;
      }
    }
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma, over the rows of
// forward_kernel's walk; each thread also sums dy * xhat and dy over its rows for its columns, and
// the block's slots' sums are added in slot order (write_slot_sums) into
// partial[blockIdx.x][0:cols] (dgamma) and [cols:2cols] (dbeta).
template <typename T, typename P, int N, bool Prefetch>
__global__ void __launch_bounds__(kBlockThreads<Prefetch>)
    backward_kernel(const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,
                    const float* __restrict__ rstd, const P* __restrict__ gamma, T* __restrict__ dx,
                    float* __restrict__ partial, int64_t rows, int64_t cols, int tpr) {
  constexpr int V = 16 / sizeof(T);
  const int t = threadIdx.x % tpr, slot = threadIdx.x / tpr, per_block = blockDim.x / tpr;
  const int64_t packs = cols / V, step = static_cast<int64_t>(gridDim.x) * per_block;
  float gm[N][V] = {}, sg[N][V] = {}, sb[N][V] = {};
  load_share<P, N, V>(gamma, t, tpr, packs, gm);
  int64_t row = static_cast<int64_t>(blockIdx.x) * per_block + slot;
  Pack<T, V> rx[N] = {}, rd[N] = {};  // Prefetch: the next row's x and dy, as stored
  float next_m = 0.f, next_rs = 0.f;
  if (Prefetch && row < rows) {
    load_raw<T, N, V>(x + row * cols, t, tpr, packs, rx);
    load_raw<T, N, V>(dy + row * cols, t, tpr, packs, rd);
    next_m = mean[row];
    next_rs = rstd[row];
  }
  int parity = 0;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * per_block; base < rows; base += step, row += step) {
    const bool live = row < rows;
    const int64_t next = row + step;
    float xv[N][V] = {}, dv[N][V] = {}, m = 0.f, rs = 0.f;
    if constexpr (Prefetch) {
      widen(rx, xv);
      widen(rd, dv);
      m = next_m;
      rs = next_rs;
      if (next < rows) {
        load_raw<T, N, V>(x + next * cols, t, tpr, packs, rx);
        load_raw<T, N, V>(dy + next * cols, t, tpr, packs, rd);
        next_m = mean[next];
        next_rs = rstd[next];
      }
    } else if (live) {
      load_share<T, N, V>(x + row * cols, t, tpr, packs, xv);
      load_share<T, N, V>(dy + row * cols, t, tpr, packs, dv);
      m = mean[row];
      rs = rstd[row];
    }
    // xv becomes xhat and dv becomes g; the parameter sums need dy, so they are taken on the way.
    float s[2] = {0.f, 0.f};
    each_held<N, V>(t, tpr, live ? packs : 0, [&](int k, int j, int64_t) {
      const float d = dv[k][j];
      xv[k][j] = (xv[k][j] - m) * rs;
      dv[k][j] = __fmul_rn(d, gm[k][j]);  // not fused below: g - mean(g) cancels exactly
      s[0] += dv[k][j];
      s[1] += dv[k][j] * xv[k][j];
      sg[k][j] += d * xv[k][j];
      sb[k][j] += d;
    });
    row_sums(s, tpr, parity);
    const float a = s[0] / static_cast<float>(cols), b = s[1] / static_cast<float>(cols);
    if (dx && live)
      store_share<T, N, V>(dx + row * cols, t, tpr, packs,
                           [&](int k, int j) { return rs * (dv[k][j] - a - xv[k][j] * b); });
  }
  if (partial) {
    float* pg = partial + static_cast<int64_t>(blockIdx.x) * 2 * cols;
    write_slot_sums<N, V>(sg, sb, t, tpr, packs, cols, pg, pg + cols);
  }
}

// A version's row layout for rows of `packs` 16-byte packs of V elements: tpr threads per row,
// n packs each, whether a thread prefetches its next row, and the block that follows: per_block
// rows, threads = per_block * tpr. n == 0 where the version has none.
struct Layout {
  int tpr = 0, n = 0;
  bool prefetch = false;
  int per_block = 0, threads = 0;
};

Layout row_layout(int version, int64_t packs) {
  for (int n : {1, 2}) {
    const int64_t per = (packs + n - 1) / n;
    if (per > kMaxTpr) continue;
    Layout l;
    l.tpr = static_cast<int>((per + 31) / 32 * 32);
    l.n = n;
    l.prefetch = version == 3 && n == 1;
    l.per_block = (l.prefetch ? kBlockThreads<true> : kBlockThreads<false>) / l.tpr;
    l.threads = l.per_block * l.tpr;
    return l;
  }
  return {};
}

// For rows of `cols` elements that are whole 16-byte packs the version has a layout for, every
// pointer given 16-byte aligned: calls f(T*, P*, integral_constant<N>, bool_constant<Prefetch>,
// layout) with typed null pointers for the storage types and returns true; false otherwise
// (nothing launched: the caller runs version 2).
template <typename F, typename... Ptr>
bool with_layout(int version, DType xt, DType pt, int64_t cols, F&& f, const Ptr*... ptrs) {
  auto run = [&](auto* tx, auto* tp, int64_t packs) {
    using std::integral_constant;
    const Layout l = row_layout(version, packs);
    switch (l.n) {
      case 1:
        if (l.prefetch) return f(tx, tp, integral_constant<int, 1>{}, std::true_type{}, l), true;
        return f(tx, tp, integral_constant<int, 1>{}, std::false_type{}, l), true;
      case 2:
        return f(tx, tp, integral_constant<int, 2>{}, std::false_type{}, l), true;
      default:
        return false;
    }
  };
  return with_packs(xt, pt, cols, run, ptrs...);
}

}  // namespace

bool forward(int version, DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y, float* mean,
             float* rstd, int64_t rows, int64_t cols, float eps, cudaStream_t stream) {
  auto run = [&](auto* tx, auto* tp, auto n, auto prefetch, const Layout& l) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    auto* kernel = forward_kernel<T, P, decltype(n)::value, decltype(prefetch)::value>;
    const int64_t blocks = fitting_blocks(kernel, l.threads, (rows + l.per_block - 1) / l.per_block);
    launch(kernel, static_cast<unsigned>(blocks), l.threads, stream)(
        static_cast<const T*>(x), static_cast<const P*>(gamma), static_cast<const P*>(beta), static_cast<T*>(y), mean,
        rstd, rows, cols, eps, l.tpr);
  };
  return with_layout(version, xt, pt, cols, run, x, y, gamma, beta);
}

bool backward(int version, DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
              const void* gamma, void* dx, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
              cudaStream_t stream) {
  const bool params = dgamma || dbeta;
  auto* partial = params ? static_cast<float*>(workspace) : nullptr;
  auto run = [&](auto* tx, auto* tp, auto n, auto prefetch, const Layout& l) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    auto* kernel = backward_kernel<T, P, decltype(n)::value, decltype(prefetch)::value>;
    const int64_t blocks = fitting_blocks(kernel, l.threads, partial_blocks(rows, l.per_block, l.threads));
    launch(kernel, static_cast<unsigned>(blocks), l.threads, stream)(
        static_cast<const T*>(dy), static_cast<const T*>(x), mean, rstd, static_cast<const P*>(gamma),
        static_cast<T*>(dx), partial, rows, cols, l.tpr);
    if (params)
      launch(reduce_partials<P>, reduce_partials_blocks(2 * cols), dim3(kPartialColumns, kPartialLanes), stream)(
          partial, static_cast<int>(blocks), 2 * cols, cols, static_cast<P*>(dgamma), static_cast<P*>(dbeta), nullptr);
  };
  return with_layout(version, xt, pt, cols, run, dy, x, dx, gamma);
}

}  // namespace lntune::kernels::cuda::v3
