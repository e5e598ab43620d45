// LayerNorm CUDA kernels, version 2 (layernorm_v2.cu): the launchers layernorm.cu calls when
// version 2 is selected. Each returns false, launching nothing, for a shape or pointer alignment
// it does not handle (the caller then runs version 1). Arguments as in layernorm.h; the backward's
// workspace is layernorm_backward_workspace's (version 2 never needs more).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "common.h"

namespace lntune::kernels::cuda::v2 {

bool forward(DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y, float* mean,
             float* rstd, int64_t rows, int64_t cols, float eps, cudaStream_t stream);

bool backward(DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
              const void* gamma, void* dx, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
              cudaStream_t stream);

}  // namespace lntune::kernels::cuda::v2
