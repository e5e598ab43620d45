// LayerNorm CUDA kernels: raw pointers and a stream, no ATen, so nvcc compiles them anywhere.
// Rows are contiguous; statistics are accumulated in fp32 whatever the input type.
#pragma once
#include <cuda_runtime.h>

namespace lntune::kernels {

// y = (x - mean) * rstd * gamma + beta for `rows` rows of `cols` floats; mean/rstd saved per row
// (either may be null). gamma/beta may be null (no affine).
cudaError_t layernorm_forward_f32(const float* x, const float* gamma, const float* beta, float* y,
                                  float* mean, float* rstd, int rows, int cols, float eps,
                                  cudaStream_t stream);

}  // namespace lntune::kernels
