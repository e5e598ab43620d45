// DyT CUDA kernels, version 1 (see dyt.h), and the launchers that pick the version (dyt/versions.h).
// Forward: grid-stride elementwise. Backward: a 2-D grid of column tiles x row chunks, one column per thread walking its chunk's rows (coalesced across
// the warp): dx written on the way, dgamma/dbeta/dalpha kept in registers, written as per-block
// partials, then summed in order by sum_column_partials.
#include <type_traits>

#include "cuda_common.cuh"
#include "dyt/dyt.h"
#include "dyt/dyt_v2.cuh"
#include "dyt/dyt_v3.cuh"

namespace lntune::kernels::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T, typename P>
__global__ void forward_v1(const T* __restrict__ x, const P* __restrict__ alpha, const P* __restrict__ gamma,
                           const P* __restrict__ beta, T* __restrict__ y, int64_t n, int64_t cols) {
  const float a = to_f32(alpha[0]);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = i % cols;
    y[i] = from_f32<T>(to_f32(gamma[c]) * tanhf(a * to_f32(x[i])) + to_f32(beta[c]));
  }
}

// partial layout: [chunk][dgamma cols | dbeta cols], then alpha_partial[chunk * tiles + tile].
template <typename T, typename P>
__global__ void backward_v1(const T* __restrict__ dy, const T* __restrict__ x, const P* __restrict__ alpha,
                            const P* __restrict__ gamma, T* __restrict__ dx, float* __restrict__ partial,
                            float* __restrict__ alpha_partial, int64_t rows, int64_t cols, int64_t rows_per_chunk,
                            bool want_cols) {
  const float a = to_f32(alpha[0]);
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t begin = blockIdx.y * rows_per_chunk;
  const int64_t end = begin + rows_per_chunk < rows ? begin + rows_per_chunk : rows;
  float sg = 0.f, sb = 0.f, sa = 0.f;
  if (c < cols) {
    const float g = to_f32(gamma[c]);
    for (int64_t r = begin; r < end; ++r) {
      const int64_t i = r * cols + c;
      const float xv = to_f32(x[i]), d = to_f32(dy[i]);
      const float th = tanhf(a * xv);
      const float dt = d * g * (1.f - th * th);
      if (dx) dx[i] = from_f32<T>(a * dt);
      sa += dt * xv;
      sg += d * th;
      sb += d;
    }
    if (want_cols) {
      float* p = partial + static_cast<int64_t>(blockIdx.y) * 2 * cols;
      p[c] = sg;
      p[cols + c] = sb;
    }
  }
  sa = block_sum(sa);  // every thread of the block takes part, in or out of range
  if (threadIdx.x == 0 && alpha_partial) alpha_partial[static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x] = sa;
}

struct Plan {
  int64_t per, chunks, tiles;
};
Plan plan(int64_t rows, int64_t cols) {
  int64_t chunks = reduction_chunks(rows), per = (rows + chunks - 1) / chunks;
  return {per, (rows + per - 1) / per, (cols + kThreads - 1) / kThreads};
}

int resolve(int version) { return version == 0 ? kDytPromoted : version; }

}  // namespace

cudaError_t dyt_forward(DType xt, DType pt, const void* x, const void* alpha, const void* gamma, const void* beta,
                        void* y, int64_t rows, int64_t cols, cudaStream_t stream, int version) {
  if (version < 0 || version > kDytVersions) return cudaErrorInvalidValue;
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  // Version 3's forward is version 2's.
  if (resolve(version) >= 2 && v2::dyt_forward(xt, pt, x, alpha, gamma, beta, y, rows, cols, stream))
    return cudaGetLastError();
  const int64_t n = rows * cols;
  const int64_t want = (n + kThreads - 1) / kThreads;
  const unsigned blocks = static_cast<unsigned>(want < 65536 ? want : 65536);
  bool ok = with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    launch(forward_v1<T, P>, blocks, kThreads, stream)(static_cast<const T*>(x), static_cast<const P*>(alpha),
                                                       static_cast<const P*>(gamma), static_cast<const P*>(beta),
                                                       static_cast<T*>(y), n, cols);
  });
  return ok ? cudaGetLastError() : cudaErrorInvalidValue;
}

size_t dyt_backward_workspace(int64_t rows, int64_t cols) {
  // Versions 1 and 2: a partial row per chunk and a dalpha partial per block; version 3: a
  // partial row of 2 * cols + 1 per block.
  Plan p = plan(rows < 1 ? 1 : rows, cols);
  const int64_t v1 = p.chunks * 2 * cols + p.chunks * p.tiles;
  const int64_t v3 = partial_blocks(rows < 1 ? 1 : rows, 1, kPartialMinThreads) * (2 * cols + 1);
  return static_cast<size_t>(v1 > v3 ? v1 : v3) * sizeof(float);
}

cudaError_t dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma,
                         void* dx, void* dalpha, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
                         cudaStream_t stream, int version) {
  if (version < 0 || version > kDytVersions) return cudaErrorInvalidValue;
  if (cols <= 0) return cudaSuccess;
  if (rows <= 0) {
    if (dalpha) cudaMemsetAsync(dalpha, 0, dtype_bytes(pt), stream);  // +0 in every type
    if (dgamma) cudaMemsetAsync(dgamma, 0, cols * dtype_bytes(pt), stream);
    if (dbeta) cudaMemsetAsync(dbeta, 0, cols * dtype_bytes(pt), stream);
    return cudaGetLastError();
  }
  const Plan p = plan(rows, cols);
  const int v = resolve(version);
  if (v >= 3 && v3::dyt_backward(xt, pt, dy, x, alpha, gamma, dx, dalpha, dgamma, dbeta, workspace, rows, cols, stream))
    return cudaGetLastError();
  if (v >= 2 && v2::dyt_backward(xt, pt, dy, x, alpha, gamma, dx, dalpha, dgamma, dbeta, workspace, rows, cols, p.per,
                                 p.chunks, stream))
    return cudaGetLastError();
  auto* partial = static_cast<float*>(workspace);
  float* alpha_partial = partial + p.chunks * 2 * cols;
  const bool want_cols = dgamma || dbeta;
  bool ok = with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    dim3 grid(static_cast<unsigned>(p.tiles), static_cast<unsigned>(p.chunks));
    launch(backward_v1<T, P>, grid, kThreads, stream)(
        static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const P*>(alpha), static_cast<const P*>(gamma),
        static_cast<T*>(dx), partial, dalpha ? alpha_partial : nullptr, rows, cols, p.per, want_cols);
    const unsigned sum_grid = static_cast<unsigned>((cols + 255) / 256);
    const int parts = static_cast<int>(p.chunks);
    if (dgamma)
      launch(sum_column_partials<P>, sum_grid, 256, stream)(partial, parts, 2 * cols, cols, static_cast<P*>(dgamma));
    if (dbeta)
      launch(sum_column_partials<P>, sum_grid, 256, stream)(partial + cols, parts, 2 * cols, cols,
                                                            static_cast<P*>(dbeta));
    if (dalpha)
      launch(sum_column_partials<P>, 1, 32, stream)(alpha_partial, static_cast<int>(p.chunks * p.tiles), 1, 1,
                                                    static_cast<P*>(dalpha));
  });
  return ok ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace lntune::kernels::cuda
