#include "cuda_common.cuh"

namespace lntune::kernels::cuda {

__global__ void sum_column_partials(const float* __restrict__ partial, int parts, int64_t stride, int64_t cols,
                                    float* __restrict__ out) {
  int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  float s = 0.f;
  for (int k = 0; k < parts; ++k) s += partial[k * stride + c];
  out[c] = s;
}

__global__ void reduce_partials(const float* __restrict__ partial, int parts, int64_t stride, int64_t cols,
                                float* __restrict__ out_a, float* __restrict__ out_b) {
  __shared__ float lane_sum[kPartialLanes][kPartialColumns + 1];  // +1: lanes' rows on distinct banks
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kPartialColumns + threadIdx.x;
  float* out = nullptr;
  int64_t oc = c;
  if (c < cols) {
    out = out_a;
  } else if (c < 2 * cols) {
    out = out_b;
    oc = c - cols;
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
    out[oc] = t;
  }
}

}  // namespace lntune::kernels::cuda
