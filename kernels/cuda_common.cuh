// Device helpers shared by kernels/*/*.cu: fp32 loads/stores of every storage type, warp and block
// sums, the storage-type dispatch of the launchers. CUDA only; no ATen.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "common.h"
#ifdef LNTUNE_CUDA_EMULATION
#include "emulation/cuda_emulation.h"
#endif

namespace lntune::kernels::cuda {

// Every launch is launch(kernel, grid, block, stream)(arguments...): nvcc's <<<...>>> (no dynamic
// shared memory), or, where the host compiler builds these sources for the CPU tests
// (LNTUNE_CUDA_EMULATION), the kernel's blocks run on the host (emulation/).
template <typename... KArgs>
struct Launch {
  void (*kernel)(KArgs...);
  dim3 grid, block;
  cudaStream_t stream;
  template <typename... A>
  void operator()(A&&... a) const {
#ifdef LNTUNE_CUDA_EMULATION
    emulation::run_grid(grid, block, [&] { kernel(static_cast<KArgs>(a)...); });
#else
    kernel<<<grid, block, 0, stream>>>(static_cast<KArgs>(a)...);
#endif
  }
};

template <typename... KArgs>
Launch<KArgs...> launch(void (*kernel)(KArgs...), dim3 grid, dim3 block, cudaStream_t stream) {
  return {kernel, grid, block, stream};
}

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

// Both column reductions below end a backward: they write its parameter gradients, and they write
// them in the parameters' storage type P (f32, f16 or bf16), the fp32 sum rounded once. With 16-bit
// parameters the binding then has no cast to launch per gradient (two or three launches more per
// backward otherwise; torch's own backward is two). Defined here, not in cuda_common.cu: nvcc 13
// makes each kernel template instantiation's host stub local to its translation unit.

// Sums partial[k * stride + c] over k = 0..parts-1 in order for each c < cols (deterministic), and
// writes the result to out[c]. One thread per column.
template <typename P>
__global__ void sum_column_partials(const float* __restrict__ partial, int parts, int64_t stride, int64_t cols,
                                    P* __restrict__ out) {
  int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float s = 0.f;
  for (int k = 0; k < parts; ++k) s += partial[k * stride + c];
  out[c] = from_f32<P>(s);
}

// Versions 2 and 3: the partial rows of a backward's parameter sums reduced in one launch for up to
// three outputs. For each column c of a partial row, sums partial[k * stride + c] over k < parts
// and writes it to out_a[c] (c < cols), out_b[c - cols] (cols <= c < 2 * cols) or out_c[0]
// (c == 2 * cols: version 3's dalpha, one column beside DyT's dgamma and dbeta); a null output's
// columns are skipped. A block is kPartialColumns columns x kPartialLanes lanes: lane l sums rows
// l, l + lanes, ... in order, then lane 0 adds the lanes' sums in lane order, so the result is the
// same on every run (it depends only on parts), and a column's partial rows are read by
// kPartialLanes threads at once instead of one (sum_column_partials), which version 1's sums
// spent most of their time waiting on.
constexpr int kPartialColumns = 32, kPartialLanes = 8;
template <typename P>
__global__ void reduce_partials(const float* __restrict__ partial, int parts, int64_t stride, int64_t cols,
                                P* __restrict__ out_a, P* __restrict__ out_b, P* __restrict__ out_c) {
  __shared__ float lane_sum[kPartialLanes][kPartialColumns + 1];  // +1: lanes' rows on distinct banks
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kPartialColumns + threadIdx.x;
  P* out = nullptr;
  int64_t oc = c;
  if (c < cols) {
    out = out_a;
  } else if (c < 2 * cols) {
    out = out_b;
    oc = c - cols;
  } else if (c == 2 * cols) {
    out = out_c;
    oc = 0;
  }
  float s = 0.f;
  if (out)
    for (int k = threadIdx.y; k < parts; k += kPartialLanes) s += partial[k * stride + c];
  lane_sum[threadIdx.y][threadIdx.x] = s;
  __syncthreads();  // every thread reaches it: no early return above
  if (threadIdx.y == 0 && out) {
    float t = lane_sum[0][threadIdx.x];
#pragma unroll
    for (int l = 1; l < kPartialLanes; ++l) t += lane_sum[l][threadIdx.x];
    out[oc] = from_f32<P>(t);
  }
}

// The launch of reduce_partials over `width` columns: dim3(kPartialColumns, kPartialLanes)
// threads, this many blocks.
inline unsigned reduce_partials_blocks(int64_t width) {
  return static_cast<unsigned>((width + kPartialColumns - 1) / kPartialColumns);
}

// The device's multiprocessor count (1 where it cannot be read).
int multiprocessors();

// Versions 3: how many blocks of `threads` threads a backward that keeps one partial row per block
// launches: about kPartialThreadsPerSM threads per multiprocessor (enough warps in flight; every
// block more is a partial row more to write and reduce), and none with fewer than min_rows rows.
// The workspace functions size for partial_blocks(rows, 1, kPartialMinThreads): no version-3
// backward launches blocks of fewer threads.
constexpr int kPartialMinThreads = 128;
constexpr int kPartialThreadsPerSM = 1024;
int64_t partial_blocks(int64_t rows, int64_t min_rows, int threads);

// Blocks of `threads` threads of `kernel` that fit on one multiprocessor at once (at least 1); the
// device is asked once per (device, kernel, block size), not on every launch.
int resident_blocks(const void* kernel, int threads);
// `want` blocks, or as many as the whole device holds at once if that is fewer (persistent grids).
template <typename... KArgs>
int64_t fitting_blocks(void (*kernel)(KArgs...), int threads, int64_t want) {
  const int64_t fit =
      static_cast<int64_t>(resident_blocks(reinterpret_cast<const void*>(kernel), threads)) * multiprocessors();
  return want < fit ? want : fit;
}

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

// Versions 2 and later: calls f(T*, P*, packs) with typed null pointers for the storage types and
// the row's count of 16-byte packs when the row is whole packs and every pointer given is 16-byte
// aligned, and returns what f returns (whether it launched); false otherwise (the caller then runs
// the version before).
template <typename F, typename... Ptr>
bool with_packs(DType xt, DType pt, int64_t cols, F&& f, const Ptr*... ptrs) {
  bool launched = false;
  with_storage(xt, pt, [&](auto* tx, auto* tp) {
    constexpr int V = 16 / sizeof(*tx);
    if (cols % V == 0 && aligned16(ptrs...)) launched = f(tx, tp, cols / V);
  });
  return launched;
}

// Rows per chunk of the column-reduction kernels: enough chunks to fill the GPU several times over,
// each long enough that its partial row is worth writing.
inline int64_t reduction_chunks(int64_t rows) {
  int64_t chunks = (rows + 31) / 32;
  return chunks < 1 ? 1 : (chunks > 1024 ? 1024 : chunks);
}

}  // namespace lntune::kernels::cuda
