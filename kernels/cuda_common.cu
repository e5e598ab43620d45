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
                                float* __restrict__ out_a, float* __restrict__ out_b, float* __restrict__ out_c) {
  __shared__ float lane_sum[kPartialLanes][kPartialColumns + 1];  // +1: lanes' rows on distinct banks
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kPartialColumns + threadIdx.x;
  float* out = nullptr;
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
    out[oc] = t;
  }
}

int multiprocessors() {
  int device = 0, n = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
    return 1;
  return n < 1 ? 1 : n;
}

int64_t partial_blocks(int64_t rows, int64_t min_rows, int threads) {
  const int per_sm = kPartialThreadsPerSM / threads;
  const int64_t most = static_cast<int64_t>(per_sm < 1 ? 1 : per_sm) * multiprocessors();
  const int64_t by_rows = (rows + min_rows - 1) / min_rows;
  return by_rows < 1 ? 1 : (by_rows < most ? by_rows : most);
}

int resident_blocks(const void* kernel, int threads) {
  int n = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, 0) != cudaSuccess) {
    cudaGetLastError();  // not sticky: clear it so the launch that follows reports its own
    return 1;
  }
  return n < 1 ? 1 : n;
}

}  // namespace lntune::kernels::cuda
