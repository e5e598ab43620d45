// LayerNorm CUDA kernels: raw pointers and a stream, no ATen, so nvcc compiles them anywhere (CI
// included, where nothing can run them). Rows are contiguous; statistics and gradient sums are
// accumulated in fp32 whatever the storage type. Activations (x, y, dy, dx) are f32, f16 or bf16;
// parameters (gamma, beta) f32 or the activation type. Any hidden size: loops stride over the row.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "common.h"
#include "layernorm/versions.h"

namespace lntune::kernels::cuda {

// `version`: see layernorm/versions.h (0: the promoted one; out of range: cudaErrorInvalidValue).
// y = (x - mean) * rstd * gamma + beta; mean and rstd (fp32, one per row) saved for the backward.
cudaError_t layernorm_forward(DType xt, DType pt, const void* x, const void* gamma, const void* beta, void* y,
                              float* mean, float* rstd, int64_t rows, int64_t cols, float eps, cudaStream_t stream,
                              int version = 0);

// Bytes of scratch layernorm_backward needs for this shape (per-chunk partial sums).
size_t layernorm_backward_workspace(int64_t rows, int64_t cols);

// dx (activation type) and dgamma/dbeta in the parameter type pt (summed in fp32, rounded once);
// a null output is not computed. dgamma/dbeta are per-chunk partial sums then a fixed-order sum
// over chunks: the same bits on every run.
cudaError_t layernorm_backward(DType xt, DType pt, const void* dy, const void* x, const float* mean, const float* rstd,
                               const void* gamma, void* dx, void* dgamma, void* dbeta, void* workspace, int64_t rows,
                               int64_t cols, cudaStream_t stream, int version = 0);

}  // namespace lntune::kernels::cuda
