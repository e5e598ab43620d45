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

}  // namespace lntune::kernels::cuda
