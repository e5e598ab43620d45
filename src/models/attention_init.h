// Structured initialisations of self-attention beyond HF's N(0, 0.02).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/model_config.h"

namespace lntune {

// "local" attention init for pretraining from scratch. MLM training of a post-LN BERT from
// N(0, 0.02) sits for thousands of updates on a context-free plateau: the query-key product
// starts at ~0, attention is uniform, and the bilinear q.k has almost no gradient until heads
// discover offsets on their own (docs/results.md). This init starts the first layer's heads as
// fixed-offset heads instead: head h of layer 0 attends mostly to position i + offsets[h].
//
// How, with plain HF tensors only (the folder loads anywhere as an ordinary BERT / GPT-2):
//  - the position table becomes the sinusoids (as init_sinusoidal_positions), and the first
//    columns -- the (sin, cos) pairs turning at >= 0.3 rad per position, at most head_dim / 2
//    pairs -- are reserved for position: word (and token type) embeddings start at 0 there, so
//    after the layer's input LayerNorm those coordinates hold position only;
//  - key = s * (those coordinates), query = s * (the same coordinates rotated by offset * w_k per
//    pair), so q_i . k_j = s^2 a^2 sum_k cos((j - i - offset) w_k), largest at j = i + offset;
//  - s is calibrated on the initialised embeddings so that the target's logit leads its
//    neighbours' (j = i + offset +- 1) by `sharpness` nats (3: most of the weight on the target,
//    measured in tests/models/test_attention_init.cpp).
// Values, outputs, the other layers and heads beyond offsets.size() keep their initialisation;
// all of it is trained as usual afterwards. Throws when the model is not BERT / GPT-2, is too
// narrow for 4 such pairs (hidden < ~48) or its head_dim leaves no room for words.
struct LocalAttentionInit {
  std::vector<int64_t> offsets;  // layer 0 head h -> offset
  int64_t reserved_columns = 0;  // [0, reserved_columns) of the embeddings hold position only
  double scale = 0;              // s above
  std::string describe() const;
};
LocalAttentionInit init_local_attention(torch::nn::Module& model, const ModelConfig& config, double sharpness = 3.0);

// The offsets layer 0's heads get: BERT (bidirectional) -1, +1, -2, +2; GPT-2 (causal) -1 .. -4;
// at most one per head.
std::vector<int64_t> local_attention_offsets(const ModelConfig& config);

}  // namespace lntune
