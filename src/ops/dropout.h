// Fused dropout (kernels/dropout) on at::Tensor: the op and the autograd function that models'
// Dropout layers use for impl "fused" (models/dropout.h). On the CPU one pass draws the mask from a
// counter-based hash of (seed, index) and scales; the backward redraws it from the seed, so no mask
// is kept between them. The seed comes from the default CPU generator, whose state checkpoints
// already save (train/run_state.h): a resumed run draws the same masks. On CUDA this is torch's own
// fused dropout (one kernel; CUDA graph capture advances its generator, train/step_graph.h).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace lntune::ops {

// x * m, m = 1 / (1 - p) where kept, 0 where dropped, the mask a function of (seed, index) only;
// x on the CPU, 0 <= p < 1, any dtype (float32 and bfloat16 in one pass; others through float32).
// Not differentiable: the backward of fused_dropout is this call on the gradient.
torch::Tensor dropout_apply(const torch::Tensor& x, double p, uint64_t seed);

// 64 random bits from the default CPU generator (advancing it, under its lock).
uint64_t draw_dropout_seed();

// Training-mode dropout, differentiable; p = 0 returns x itself.
torch::Tensor fused_dropout(const torch::Tensor& x, double p);

}  // namespace lntune::ops
