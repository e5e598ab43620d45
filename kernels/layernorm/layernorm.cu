// LayerNorm CUDA kernels, version 1 (see layernorm.h), and the launchers that pick the version. Forward and dx: one warp per row, three
// strided passes over the row (shifted sum, centred variance, output), the second and third served
// from L1/L2. dgamma/dbeta: a 2-D grid of column tiles x row chunks, one column per thread, partial
// sums per chunk, then sum_column_partials. Later versions are compared against this one by
// `lntune bench-norm` and the fastest promoted (docs/benchmarks.md).
#include <type_traits>

#include "cuda_common.cuh"
#include "layernorm/layernorm.h"
#include "layernorm/layernorm_v2.cuh"
#include "layernorm/layernorm_v3.cuh"

namespace lntune::kernels::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kColumnsPerBlock = 256;

template <typename T, typename P>
__global__ void forward_v1(const T* __restrict__ x, const P* __restrict__ gamma, const P* __restrict__ beta,
                           T* __restrict__ y, float* __restrict__ mean_out, float* __restrict__ rstd_out,
                           int64_t rows, int64_t cols, float eps) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const T* xr = x + row * cols;
  const float x0 = to_f32(xr[0]);  // centring as (x - x0) - (mean - x0) keeps large offsets exact
  float s = 0.f;
  for (int64_t c = lane; c < cols; c += 32) s += to_f32(xr[c]) - x0;
  const float ms = warp_sum(s) / static_cast<float>(cols);
  float v = 0.f;
  for (int64_t c = lane; c < cols; c += 32) {
    float d = (to_f32(xr[c]) - x0) - ms;
    v += d * d;
  }
  const float rstd = rsqrtf(warp_sum(v) / static_cast<float>(cols) + eps);
  T* yr = y + row * cols;
  for (int64_t c = lane; c < cols; c += 32)
    yr[c] = from_f32<T>(((to_f32(xr[c]) - x0) - ms) * rstd * to_f32(gamma[c]) + to_f32(beta[c]));
  const float mean = x0 + ms;
  if (lane == 0) {
    mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma.
template <typename T, typename P>
__global__ void backward_dx_v1(const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,
                               const float* __restrict__ rstd, const P* __restrict__ gamma, T* __restrict__ dx,
                               int64_t rows, int64_t cols) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const T* dyr = dy + row * cols;
  const T* xr = x + row * cols;
  const float m = mean[row], rs = rstd[row];
  float a = 0.f, b = 0.f;
  for (int64_t c = lane; c < cols; c += 32) {
    float g = __fmul_rn(to_f32(dyr[c]), to_f32(gamma[c]));  // not fused below: g - mean(g) cancels exactly
    a += g;
    b += g * (to_f32(xr[c]) - m) * rs;
  }
  a = warp_sum(a) / static_cast<float>(cols);
  b = warp_sum(b) / static_cast<float>(cols);
  T* dxr = dx + row * cols;
  for (int64_t c = lane; c < cols; c += 32) {
    float xhat = (to_f32(xr[c]) - m) * rs;
    dxr[c] = from_f32<T>(rs * (__fmul_rn(to_f32(dyr[c]), to_f32(gamma[c])) - a - xhat * b));
  }
}

// partial[chunk][0:cols] = sum over the chunk's rows of dy * xhat, partial[chunk][cols:2cols] = sum dy.
template <typename T>
__global__ void backward_params_v1(const T* __restrict__ dy, const T* __restrict__ x, const float* __restrict__ mean,
                                   const float* __restrict__ rstd, float* __restrict__ partial, int64_t rows,
                                   int64_t cols, int64_t rows_per_chunk) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kColumnsPerBlock + threadIdx.x;
  if (c >= cols) return;
  const int64_t begin = blockIdx.y * rows_per_chunk;
  const int64_t end = begin + rows_per_chunk < rows ? begin + rows_per_chunk : rows;
  float sg = 0.f, sb = 0.f;
  for (int64_t r = begin; r < end; ++r) {
    float d = to_f32(dy[r * cols + c]);
    sg += d * (to_f32(x[r * cols + c]) - mean[r]) * rstd[r];
    sb += d;
  }
  float* p = partial + static_cast<int64_t>(blockIdx.y) * 2 * cols;
  p[c] = sg;
  p[cols + c] = sb;
}

dim3 row_grid(int64_t rows) { return dim3(static_cast<unsigned>((rows + kWarpsPerBlock - 1) / kWarpsPerBlock)); }

int resolve(int version) { return version == 0 ? kLayerNormPromoted : version; }

}  // namespace

cudaError_t layernorm_forward(DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y,
                              float* mean, float* rstd, int64_t rows, int64_t cols, float eps, cudaStream_t stream,
                              int version) {
  if (version < 0 || version > kLayerNormVersions) return cudaErrorInvalidValue;
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  // Each version runs the shapes it declines on the version before it.
  const int v = resolve(version);
  if (v >= 3 && v3::forward(v, xt, pt, x, gamma, beta, y, mean, rstd, rows, cols, eps, stream))
    return cudaGetLastError();
  if (v >= 2 && v2::forward(xt, pt, x, gamma, beta, y, mean, rstd, rows, cols, eps, stream)) return cudaGetLastError();
  bool ok = with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    launch(forward_v1<T, P>, row_grid(rows), kWarpsPerBlock * 32, stream)(
        static_cast<const T*>(x), static_cast<const P*>(gamma), static_cast<const P*>(beta), static_cast<T*>(y), mean,
        rstd, rows, cols, eps);
  });
  return ok ? cudaGetLastError() : cudaErrorInvalidValue;
}

size_t layernorm_backward_workspace(int64_t rows, int64_t cols) {
  // Partial rows: versions 1 and 2 one per reduction chunk, versions 3 and 4 one per block.
  const int64_t chunks = reduction_chunks(rows), blocks = partial_blocks(rows, 1, kPartialMinThreads);
  return static_cast<size_t>(chunks > blocks ? chunks : blocks) * 2 * static_cast<size_t>(cols) * sizeof(float);
}

cudaError_t layernorm_backward(DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
                               const void* gamma, void* dx, void* dgamma, void* dbeta, void* workspace, int64_t rows,
                               int64_t cols, cudaStream_t stream, int version) {
  if (version < 0 || version > kLayerNormVersions) return cudaErrorInvalidValue;
  if (cols <= 0) return cudaSuccess;
  if (rows <= 0) {
    if (dgamma) cudaMemsetAsync(dgamma, 0, cols * dtype_bytes(pt), stream);  // +0 in every type
    if (dbeta) cudaMemsetAsync(dbeta, 0, cols * dtype_bytes(pt), stream);
    return cudaGetLastError();
  }
  const int v = resolve(version);
  if (v >= 3 && v3::backward(v, xt, pt, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, workspace, rows, cols, stream))
    return cudaGetLastError();
  if (v >= 2 && v2::backward(xt, pt, dy, x, mean, rstd, gamma, dx, dgamma, dbeta, workspace, rows, cols, stream))
    return cudaGetLastError();
  bool ok = with_storage(xt, pt, [&](auto* tx, auto* tp) {
    using T = std::remove_pointer_t<decltype(tx)>;
    using P = std::remove_pointer_t<decltype(tp)>;
    if (dx)
      launch(backward_dx_v1<T, P>, row_grid(rows), kWarpsPerBlock * 32, stream)(
          static_cast<const T*>(dy), static_cast<const T*>(x), mean, rstd, static_cast<const P*>(gamma),
          static_cast<T*>(dx), rows, cols);
    if (dgamma || dbeta) {
      const int64_t chunks = reduction_chunks(rows), per = (rows + chunks - 1) / chunks;
      const int64_t used = (rows + per - 1) / per;
      auto* partial = static_cast<float*>(workspace);
      dim3 grid(static_cast<unsigned>((cols + kColumnsPerBlock - 1) / kColumnsPerBlock), static_cast<unsigned>(used));
      launch(backward_params_v1<T>, grid, kColumnsPerBlock, stream)(static_cast<const T*>(dy), static_cast<const T*>(x),
                                                                    mean, rstd, partial, rows, cols, per);
      const unsigned sum_grid = static_cast<unsigned>((cols + 255) / 256);
      if (dgamma)
        launch(sum_column_partials<P>, sum_grid, 256, stream)(partial, static_cast<int>(used), 2 * cols, cols,
                                                              static_cast<P*>(dgamma));
      if (dbeta)
        launch(sum_column_partials<P>, sum_grid, 256, stream)(partial + cols, static_cast<int>(used), 2 * cols, cols,
                                                              static_cast<P*>(dbeta));
    }
  });
  return ok ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace lntune::kernels::cuda
