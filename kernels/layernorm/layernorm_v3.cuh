// LayerNorm CUDA kernels, versions 3 and 4 (layernorm_v3.cu): the launchers layernorm.cu calls
// when either is selected (`version` 3 or 4 picks the row layout). Each returns false, launching
// nothing, for a shape or pointer alignment it does not handle (the caller then runs version 2's
// kernels, and version 1's where those decline too). Arguments as in layernorm.h; the backward
// launches at most partial_blocks(rows, 1, kPartialMinThreads) blocks, which
// layernorm_backward_workspace covers.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "common.h"

namespace lntune::kernels::cuda::v3 {

bool forward(int version, DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y, float* mean,
             float* rstd, int64_t rows, int64_t cols, float eps, cudaStream_t stream);

bool backward(int version, DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
              const void* gamma, void* dx, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
              cudaStream_t stream);

}  // namespace lntune::kernels::cuda::v3
