// Tokenised datasets and padded batches.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/encoded.h"
#include "data/glue.h"
#include "models/model.h"
#include "tokenizers/tokenizer.h"

namespace lntune {

// Tokenises once (truncated longest-first to max_length, specials included, no padding).
std::vector<Encoded> encode_examples(const Tokenizer& tok, const std::vector<Example>& examples, int64_t max_length);

struct LabeledBatch {
  Batch inputs;
  torch::Tensor labels;  // int64 classes or float scores
  int64_t tokens = 0;    // real (unpadded) tokens
};

// Pads the selected rows to the longest among them (dynamic padding), rounded up to a multiple of
// `pad_multiple` but not past `max_length` (0: no bound) when the longest is within it: fewer
// distinct shapes, which CUDA graphs need (one graph per shape).
// Causal-LM rows (Encoded::target_start > 0) give next-token labels instead: [N] token ids and
// inputs.lm_positions, the N flattened positions whose logits predict them (`regression` unused).
LabeledBatch make_batch(const std::vector<Encoded>& data, const std::vector<size_t>& rows, int64_t pad_id,
                        bool regression, int64_t pad_multiple = 1, int64_t max_length = 0);

// Batches of row indices: shuffled by (seed, epoch) for training (in file order when `shuffle`
// is false: what loss-parity checks against other trainers need); sorted by length for evaluation.
std::vector<std::vector<size_t>> train_batches(size_t n, int64_t batch_size, uint64_t seed, int64_t epoch,
                                               bool shuffle = true);

// Batches per megabatch of length-grouped training batches (train.group_by_length).
constexpr int64_t kLengthGroupBatches = 50;

// train.group_by_length (HF Trainer's group_by_length): the epoch's order as train_batches gives
// it, cut into megabatches of kLengthGroupBatches batches whose rows are sorted by length (longest
// first) before they are split into batches, so a batch's rows are of similar length and dynamic
// padding shrinks; the batches of a megabatch are then shuffled by (seed, epoch) as well, so the
// step order is not longest-to-shortest within each megabatch (HF keeps that order).
std::vector<std::vector<size_t>> length_grouped_batches(const std::vector<Encoded>& data, int64_t batch_size,
                                                        uint64_t seed, int64_t epoch, bool shuffle = true);
std::vector<std::vector<size_t>> eval_batches(const std::vector<Encoded>& data, int64_t batch_size);

}  // namespace lntune
