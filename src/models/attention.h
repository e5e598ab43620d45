// The attention product both models share: softmax(q k^T * scale + mask) v, as written out
// ("eager": matmul, softmax, the attention dropout module, matmul — HF's eager path) or through
// LibTorch's fused scaled_dot_product_attention ("sdpa", LibTorch >= 2.1: flash/memory-efficient
// kernels on GPUs; HF transformers' default). Chosen per run by `model.attention`.
#pragma once
#include <torch/torch.h>

#include <string>

#include "models/dropout.h"

namespace lntune {

// Whether this build's LibTorch has at::scaled_dot_product_attention with a scale argument.
bool sdpa_available();
// A config's `model.attention` as this build runs it: "auto" is "sdpa" where LibTorch has it
// (measured on the H100: faster and in less memory than "eager"; on the CPU the same time), else
// "eager"; "eager" and "sdpa" are themselves. Anything else, or "sdpa" without LibTorch support,
// is an Error naming `source` and the key.
std::string resolve_attention(const std::string& attention, const std::string& source);

// q [B, heads, T, d], k and v [B, heads, S, d]; mask additive, broadcastable to [B, heads, T, S]
// (undefined: none). Returns [B, heads, T, d]. `dropout` is applied to the probabilities when the
// module is training (eager: the module itself; sdpa: its rate).
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                     double scale, Dropout& dropout, bool sdpa);

}  // namespace lntune
