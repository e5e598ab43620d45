// A thread's share of a row, for the CUDA versions that keep rows in registers (LayerNorm 2, 3, 4;
// DyT 3's backward): the row's 16-byte packs t, t + tpr, t + 2 * tpr, ... below `packs` (N of them
// at most, V elements each), tpr threads sharing the row. CUDA only; no ATen.
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

// Columns per pass of write_slot_sums' shared-memory sum.
constexpr int kSlotSumColumns = 1024;

// The end of a backward whose block walks rows in slots side by side (slot threadIdx.x / tpr of
// blockDim.x / tpr), each thread having summed two parameter-gradient terms (sg, sb: LayerNorm's
// dgamma and dbeta, DyT's dgamma and dbeta) over its slot's rows for the columns of its share.
// Writes the block's sums to pg[0:cols] and pb[0:cols]: the slots' added in slot order (a fixed
// order, so run-to-run deterministic) in shared memory, kSlotSumColumns columns per pass, or with
// one slot straight from registers. Every thread of the block calls it.
template <int N, int V>
__device__ __forceinline__ void write_slot_sums(const float (&sg)[N][V], const float (&sb)[N][V], int t, int tpr,
                                                int64_t packs, int64_t cols, float* pg, float* pb) {
  const int slot = threadIdx.x / tpr, slots = blockDim.x / tpr;
  if (slots == 1) {  // each column belongs to one thread of the block
    each_held<N, V>(t, tpr, packs, [&](int k, int j, int64_t c) {
      pg[c] = sg[k][j];
      pb[c] = sb[k][j];
    });
    return;
  }
  __shared__ float acc[2 * kSlotSumColumns];
  for (int64_t c0 = 0; c0 < cols; c0 += kSlotSumColumns) {
    for (int r = 0; r < slots; ++r) {
      if (slot == r)
        each_held<N, V>(t, tpr, packs, [&](int k, int j, int64_t col) {
          const int64_t c = col - c0;
          if (c >= 0 && c < kSlotSumColumns) {
            acc[c] = r == 0 ? sg[k][j] : acc[c] + sg[k][j];
            acc[kSlotSumColumns + c] = r == 0 ? sb[k][j] : acc[kSlotSumColumns + c] + sb[k][j];
          }
        });
      __syncthreads();
    }
    for (int64_t c = threadIdx.x; c < kSlotSumColumns && c0 + c < cols; c += blockDim.x) {
      pg[c0 + c] = acc[c];
      pb[c0 + c] = acc[kSlotSumColumns + c];
    }
    __syncthreads();  // read before the next pass writes
  }
}

}  // namespace lntune::kernels::cuda
