// LayerNorm forward, version 1: one warp per row, two-pass (mean, then centred variance) over
// registers-free strided loads. Later versions are compared against this one by the kernel
// benchmark and the fastest promoted (see docs/benchmarks.md).
#include "layernorm/layernorm.h"

namespace lntune::kernels {
namespace {

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__global__ void layernorm_forward_f32_v1(const float* __restrict__ x, const float* __restrict__ gamma,
                                         const float* __restrict__ beta, float* __restrict__ y,
                                         float* __restrict__ mean_out, float* __restrict__ rstd_out,
                                         int rows, int cols, float eps) {
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + static_cast<size_t>(row) * cols;
  float s = 0.f;
  for (int i = lane; i < cols; i += 32) s += xr[i];
  float mean = warp_sum(s) / cols;
  float v = 0.f;
  for (int i = lane; i < cols; i += 32) {
    float d = xr[i] - mean;
    v += d * d;
  }
  float rstd = rsqrtf(warp_sum(v) / cols + eps);
  float* yr = y + static_cast<size_t>(row) * cols;
  for (int i = lane; i < cols; i += 32) {
    float n = (xr[i] - mean) * rstd;
    yr[i] = n * (gamma ? gamma[i] : 1.f) + (beta ? beta[i] : 0.f);
  }
  if (lane == 0) {
    if (mean_out) mean_out[row] = mean;
    if (rstd_out) rstd_out[row] = rstd;
  }
}

}  // namespace

cudaError_t layernorm_forward_f32(const float* x, const float* gamma, const float* beta, float* y,
                                  float* mean, float* rstd, int rows, int cols, float eps,
                                  cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  constexpr int kWarpsPerBlock = 8;
  dim3 grid((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
  layernorm_forward_f32_v1<<<grid, kWarpsPerBlock * 32, 0, stream>>>(x, gamma, beta, y, mean, rstd, rows,
                                                                      cols, eps);
  return cudaGetLastError();
}

}  // namespace lntune::kernels
