// DyT CUDA kernels, version 2 (dyt_v2.cu): the launchers dyt.cu calls when version 2 is selected.
// Each returns false, launching nothing, for a shape or pointer alignment it does not handle (the
// caller then runs version 1). Arguments as in dyt.h; the backward splits the rows as version 1
// does (`per` rows in each of `chunks`), so dyt_backward_workspace's size serves both.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "common.h"

namespace lntune::kernels::cuda::v2 {

bool dyt_forward(DType xt, DType pt, const void* x, const void* alpha, const void* gamma, const void* beta, void* y,
                 int64_t rows, int64_t cols, cudaStream_t stream);

bool dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma, void* dx,
                  void* dalpha, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols, int64_t per,
                  int64_t chunks, cudaStream_t stream);

}  // namespace lntune::kernels::cuda::v2
