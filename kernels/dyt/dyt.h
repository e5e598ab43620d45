// DyT CUDA kernels: y = gamma * tanh(alpha * x) + beta, alpha one scalar (arXiv 2503.10622).
// Raw pointers and a stream, no ATen. Activations f32, f16 or bf16; parameters (alpha, gamma,
// beta) f32 or the activation type; fp32 arithmetic; any hidden size.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "common.h"
#include "dyt/versions.h"

namespace lntune::kernels::cuda {

// `version`: see dyt/versions.h (0: the promoted one; out of range: cudaErrorInvalidValue).
cudaError_t dyt_forward(DType xt, DType pt, const void* x, const void* alpha, const void* gamma, const void* beta,
                        void* y, int64_t rows, int64_t cols, cudaStream_t stream, int version = 0);

// Bytes of scratch dyt_backward needs for this shape.
size_t dyt_backward_workspace(int64_t rows, int64_t cols);

// dx (activation type) and dalpha (one value), dgamma, dbeta in the parameter type pt (summed in
// fp32, rounded once); a null output is not computed.
// One pass over (x, dy); every reduction goes through per-block partials summed in a fixed order by
// a second kernel, so no float atomics: the same bits on every run.
cudaError_t dyt_backward(DType xt, DType pt, const void* dy, const void* x, const void* alpha, const void* gamma,
                         void* dx, void* dalpha, void* dgamma, void* dbeta, void* workspace, int64_t rows, int64_t cols,
                         cudaStream_t stream, int version = 0);

}  // namespace lntune::kernels::cuda
