// Device helpers shared by kernels/*/*.cu: fp32 loads/stores of every storage type, warp and block
// sums, the storage-type dispatch of the launchers. CUDA only; no ATen.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "common.h"

namespace lntune::kernels::cuda {

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T from_f32(float v);
template <>
__device__ __forceinline__ float from_f32<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half from_f32<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ float warp_part[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // warp_part may still be read by a previous call
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  float s = lane < warps ? warp_part[lane] : 0.f;
  return warp_sum(s);
}

// Versions 2 of the kernels: 16 bytes per load or store, on pointers checked by aligned16 (every
// one given; null passes: an output not asked for).
template <typename... Ptr>
bool aligned16(const Ptr*... p) {
  return ((reinterpret_cast<uintptr_t>(p) % 16 == 0) && ...);
}

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// V elements from p (16-byte aligned) as fp32, in 16-byte loads: one for a pack of activations
// (V = 16 / sizeof(activation)), two for fp32 parameters beside 16-bit activations (a 32-byte
// load would go through local memory). store writes V (16 bytes of T) back.
template <typename T, int V>
__device__ __forceinline__ void load_pack(const T* p, float (&out)[V]) {
  constexpr int C = 16 / sizeof(T) < V ? 16 / sizeof(T) : V;
#pragma unroll
  for (int c = 0; c < V; c += C) {
    const Pack<T, C> w = *reinterpret_cast<const Pack<T, C>*>(p + c);
#pragma unroll
    for (int j = 0; j < C; ++j) out[c + j] = to_f32(w.v[j]);
  }
}

template <typename T, int V>
__device__ __forceinline__ void store_pack(T* p, const float (&in)[V]) {
  Pack<T, V> w;
#pragma unroll
  for (int j = 0; j < V; ++j) w.v[j] = from_f32<T>(in[j]);
  *reinterpret_cast<Pack<T, V>*>(p) = w;
}

// Sums partial[k * stride + c] over k = 0..parts-1 in order for each c < cols (deterministic), and
// writes the fp32 result to out[c]. One thread per column.
__global__ void sum_column_partials(const float* __restrict__ partial, int parts, int64_t stride, int64_t cols,
                                    float* __restrict__ out);

// Calls f with typed null pointers for (activation type, parameter type): activations f32, f16 or
// bf16; parameters f32 or the activation type. Returns false for another combination.
template <typename F>
bool with_storage(DType xt, DType pt, F&& f) {
  if (pt == DType::f32) {
    if (xt == DType::f32) return f(static_cast<float*>(nullptr), static_cast<float*>(nullptr)), true;
    if (xt == DType::f16) return f(static_cast<__half*>(nullptr), static_cast<float*>(nullptr)), true;
    if (xt == DType::bf16) return f(static_cast<__nv_bfloat16*>(nullptr), static_cast<float*>(nullptr)), true;
  }
  if (xt == pt && xt == DType::f16) return f(static_cast<__half*>(nullptr), static_cast<__half*>(nullptr)), true;
  if (xt == pt && xt == DType::bf16)
    return f(static_cast<__nv_bfloat16*>(nullptr), static_cast<__nv_bfloat16*>(nullptr)), true;
  return false;
}

// Rows per chunk of the column-reduction kernels: enough chunks to fill the GPU several times over,
// each long enough that its partial row is worth writing.
inline int64_t reduction_chunks(int64_t rows) {
  int64_t chunks = (rows + 31) / 32;
  return chunks < 1 ? 1 : (chunks > 1024 ? 1024 : chunks);
}

}  // namespace lntune::kernels::cuda
