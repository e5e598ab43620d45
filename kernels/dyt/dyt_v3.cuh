// DyT CUDA kernels, version 3 (dyt_v3.cu): the backward launcher dyt.cu calls when version 3 is
// selected (its forward is version 2's). Returns false, launching nothing, for a shape or pointer
// alignment it does not handle (the caller then runs version 2). Arguments as in dyt.h; it
// launches at most partial_blocks(rows, 1, kPartialMinThreads) blocks, each a partial row of
// 2 * cols + 1 floats, which dyt_backward_workspace covers.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "common.h"

namespace lntune::kernels::cuda::v3 {

bool dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma, void* dx,
                  void* dalpha, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
                  cudaStream_t stream);

}  // namespace lntune::kernels::cuda::v3
