// What every norm-kernel binding does before reaching a raw-pointer kernel: map dtypes, check
// shapes and devices (TORCH_CHECK naming the op and the value), view x as rows x hidden.
#pragma once
#include <torch/torch.h>

#include "common.h"

namespace lntune::ops {

kernels::DType kernel_dtype(const torch::Tensor& t, const char* op, const char* what);

struct RowView {
  int64_t rows = 0, cols = 0;
};
// x is [..., cols] on the CPU or a CUDA device.
RowView row_view(const torch::Tensor& x, int64_t cols, const char* op);
// p has `numel` elements on x's device.
void check_param(const torch::Tensor& p, const torch::Tensor& x, int64_t numel, const char* op, const char* what);

// Parameter storage the kernels take for activations of type x: on CUDA fp32 or x's own type, on
// the CPU fp32 or bf16. Anything else is cast to fp32 (autograd casts the gradient back).
torch::Tensor kernel_param(const torch::Tensor& p, const torch::Tensor& x);

// The CPU kernels store f32 and bf16; fp16 CPU activations run in fp32 and are cast back.
bool cpu_needs_upcast(const torch::Tensor& x);

int cpu_threads();

// A [n] buffer for a parameter gradient when wanted, else undefined, in the type the kernel writes:
// on CUDA the kernel parameters' own (kp, from kernel_param; the kernels round their fp32 sums once,
// so no cast launches after them), on the CPU fp32.
torch::Tensor grad_buffer(bool want, int64_t n, const torch::Tensor& kp);
// A kernel's parameter gradient in the parameter's dtype and shape (undefined stays undefined; no
// copy where the types already agree).
torch::Tensor param_grad(const torch::Tensor& g, const torch::Tensor& param);

}  // namespace lntune::ops
