// A thread's share of a LayerNorm row, for the CUDA versions that keep rows in registers (2, 3,
// 4): the row's 16-byte packs t, t + tpr, t + 2 * tpr, ... below `packs` (N of them at most, V
// elements each), tpr threads sharing the row. CUDA only; no ATen.
#pragma once
#include <cstdint>

#include "cuda_common.cuh"

namespace lntune::kernels::cuda {

// Calls f(k, j, column) for every element of the share (pack k, element j).
template <int N, int V, typename F>
__device__ __forceinline__ void each_held(int t, int tpr, int64_t packs, F&& f) {
#pragma unroll
  for (int k = 0; k < N; ++k) {
    const int64_t i = t + static_cast<int64_t>(k) * tpr;
    if (i < packs)
#pragma unroll
      for (int j = 0; j < V; ++j) f(k, j, i * V + j);
  }
}

// The share of `row` as fp32.
template <typename T, int N, int V>
__device__ __forceinline__ void load_share(const T* row, int t, int tpr, int64_t packs, float (&v)[N][V]) {
#pragma unroll
  for (int k = 0; k < N; ++k) {
    const int64_t i = t + static_cast<int64_t>(k) * tpr;
    if (i < packs) load_pack<T, V>(row + i * V, v[k]);
  }
}

// The share of `row` as stored: a row held ahead of its use takes half the registers in 16-bit
// types. widen converts it to fp32.
template <typename T, int N, int V>
__device__ __forceinline__ void load_raw(const T* row, int t, int tpr, int64_t packs, Pack<T, V> (&r)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) {
    const int64_t i = t + static_cast<int64_t>(k) * tpr;
    if (i < packs) r[k] = *reinterpret_cast<const Pack<T, V>*>(row + i * V);
  }
}

template <typename T, int N, int V>
__device__ __forceinline__ void widen(const Pack<T, V> (&r)[N], float (&v)[N][V]) {
#pragma unroll
  for (int k = 0; k < N; ++k)
#pragma unroll
    for (int j = 0; j < V; ++j) v[k][j] = to_f32(r[k].v[j]);
}

// Writes value(k, j) to every element of the share of `row`, a pack per 16-byte store.
template <typename T, int N, int V, typename F>
__device__ __forceinline__ void store_share(T* row, int t, int tpr, int64_t packs, F&& value) {
#pragma unroll
  for (int k = 0; k < N; ++k) {
    const int64_t i = t + static_cast<int64_t>(k) * tpr;
    if (i < packs) {
      float o[V];
#pragma unroll
      for (int j = 0; j < V; ++j) o[j] = value(k, j);
      store_pack<T, V>(row + i * V, o);
    }
  }
}

}  // namespace lntune::kernels::cuda
