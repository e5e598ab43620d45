// DyT CUDA kernels, version 2 (see dyt/versions.h; version 1 is dyt.cu). What the H100
// measurements of version 1 pointed at (docs/benchmarks.md, 2026-11-24: 2.0-2.6x torch's
// composite, 23-41% of copy bandwidth): version 1's forward divides a 64-bit index by the hidden
// size for every element and both kernels move 2-4 bytes per load. Here a thread owns one pack of
// 16 bytes of columns (its gamma/beta loaded once) and walks rows, so there is no per-element
// index arithmetic and every access is a 16-byte load or store; a block is as wide as the row's
// packs (rounded up to a warp, at most 256). The backward keeps version 1's partition of rows
// into chunks and its partial-sum layout (per-chunk dgamma/dbeta rows, one dalpha partial per
// block, summed in a fixed order): deterministic. The partials are reduced by reduce_partials:
// dgamma and dbeta in one launch, and every reduction eight threads per column (version 1: one
// launch per parameter, a thread per column; dalpha's hundreds of partials by a single thread).
// A hidden size that is not a multiple of 16 bytes, or a misaligned pointer: the launcher runs
// version 1.
#include <cstdint>
#include <type_traits>

#include "cuda_common.cuh"
#include "dyt/dyt_pack.cuh"
#include "dyt/dyt_v2.cuh"

namespace lntune::kernels::cuda::v2 {
namespace {

constexpr int kMaxThreads = 256;

template <typename T, typename P>
__global__ void __launch_bounds__(kMaxThreads) dyt_forward_kernel(const T* __restrict__ x, const P* __restrict__ alpha,
                                                                  const P* __restrict__ gamma,
                                                                  const P* __restrict__ beta, T* __restrict__ y,
                                                                  int64_t rows, int64_t cols, int64_t per) {
  constexpr int V = 16 / sizeof(T);
  const int64_t pack = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (pack * V >= cols) return;
  const float a = to_f32(alpha[0]);
  float g[V], b[V];
  load_pack<P, V>(gamma + pack * V, g);
  load_pack<P, V>(beta + pack * V, b);
  const int64_t begin = static_cast<int64_t>(blockIdx.y) * per;
  const int64_t end = begin + per < rows ? begin + per : rows;
  for (int64_t r = begin; r < end; ++r) {
    float v[V];
    load_pack<T, V>(x + r * cols + pack * V, v);
#pragma unroll
    for (int j = 0; j < V; ++j) v[j] = g[j] * tanhf(a * v[j]) + b[j];
    store_pack<T, V>(y + r * cols + pack * V, v);
  }
}

// partial layout as version 1: [chunk][dgamma cols | dbeta cols]; alpha_partial[chunk * tiles + tile].
template <typename T, typename P>
__global__ void __launch_bounds__(kMaxThreads) dyt_backward_kernel(const T* __restrict__ dy, const T* __restrict__ x,
                                                                   const P* __restrict__ alpha,
                                                                   const P* __restrict__ gamma, T* __restrict__ dx,
                                                                   float* __restrict__ partial,
                                                                   float* __restrict__ alpha_partial, int64_t rows,
                                                                   int64_t cols, int64_t per) {
  constexpr int V = 16 / sizeof(T);
  const float a = to_f32(alpha[0]);
  const int64_t pack = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t begin = static_cast<int64_t>(blockIdx.y) * per;
  const int64_t end = begin + per < rows ? begin + per : rows;
  float sa = 0.f;
  if (pack * V < cols) {
    float g[V], sg[V], sb[V];
    load_pack<P, V>(gamma + pack * V, g);
#pragma unroll
    for (int j = 0; j < V; ++j) sg[j] = sb[j] = 0.f;
    for (int64_t r = begin; r < end; ++r) {
      float xv[V], d[V], o[V];
      load_pack<T, V>(x + r * cols + pack * V, xv);
      load_pack<T, V>(dy + r * cols + pack * V, d);
      dyt_backward_pack<V>(xv, d, g, a, o, sa, sg, sb);
      if (dx) store_pack<T, V>(dx + r * cols + pack * V, o);
    }
    if (partial) {
      float* p = partial + static_cast<int64_t>(blockIdx.y) * 2 * cols + pack * V;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        p[j] = sg[j];
        p[cols + j] = sb[j];
      }
    }
  }
  sa = block_sum(sa);  // every thread of the block takes part, in or out of range
  if (threadIdx.x == 0 && alpha_partial)
    alpha_partial[static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x] = sa;
}

// A block as wide as the row's packs, rounded up to a warp, at most kMaxThreads.
unsigned block_width(int64_t packs) {
  const int64_t w = (packs + 31) / 32 * 32;
  return static_cast<unsigned>(w < kMaxThreads ? w : kMaxThreads);
}

}  // namespace

bool dyt_forward(DType xt, DType pt, const void* x, const void* alpha, const void* gamma, const void* beta, void* y,
                 int64_t rows, int64_t cols, cudaStream_t stream) {
  auto run = [&](auto* tx, auto* tp, int64_t packs) {
    const unsigned width = block_width(packs);
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    // Eight rows per thread, more where the rows would overflow the grid's second dimension.
    int64_t per = 8;
    if ((rows + per - 1) / per > 65535) per = (rows + 65534) / 65535;
    dim3 grid(static_cast<unsigned>((packs + width - 1) / width), static_cast<unsigned>((rows + per - 1) / per));
    launch(dyt_forward_kernel<T, P>, grid, width, stream)(static_cast<const T*>(x), static_cast<const P*>(alpha),
                                                          static_cast<const P*>(gamma), static_cast<const P*>(beta),
                                                          static_cast<T*>(y), rows, cols, per);
    return true;
  };
  return with_packs(xt, pt, cols, run, x, y, gamma, beta);
}

bool dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma, void* dx,
                  void* dalpha, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols, int64_t per,
                  int64_t chunks, cudaStream_t stream) {
  auto run = [&](auto* tx, auto* tp, int64_t packs) {
    const unsigned width = block_width(packs);
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    const int64_t tiles = (packs + width - 1) / width;  // never more than version 1's, whose workspace this is
    auto* partial = static_cast<float*>(workspace);
    float* alpha_partial = partial + chunks * 2 * cols;
    dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(chunks));
    launch(dyt_backward_kernel<T, P>, grid, width, stream)(
        static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const P*>(alpha), static_cast<const P*>(gamma),
        static_cast<T*>(dx), dgamma || dbeta ? partial : nullptr, dalpha ? alpha_partial : nullptr, rows, cols, per);
    const dim3 lanes(kPartialColumns, kPartialLanes);
    if (dgamma || dbeta)
      launch(reduce_partials<P>, reduce_partials_blocks(2 * cols), lanes, stream)(
          partial, static_cast<int>(chunks), 2 * cols, cols, static_cast<P*>(dgamma), static_cast<P*>(dbeta), nullptr);
    if (dalpha)
      launch(reduce_partials<P>, 1, lanes, stream)(alpha_partial, static_cast<int>(chunks * tiles), 1, 1,
                                                   static_cast<P*>(dalpha), nullptr, nullptr);
    return true;
  };
  return with_packs(xt, pt, cols, run, dy, x, dx, gamma);
}

}  // namespace lntune::kernels::cuda::v2
