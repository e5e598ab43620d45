// BERT masked-LM corruption (Devlin et al.): each maskable token (or whole word) is selected
// with probability `prob`; a selected token becomes [MASK] 80% of the time, a random token 10%,
// and stays 10%. Labels hold the original id at selected positions, -100 elsewhere (HF's
// ignore index). Torch-free, deterministic for a given Rng.
#pragma once
#include <cstdint>
#include <vector>

#include "util/rng.h"

namespace lntune {

struct MaskingOptions {
  double prob = 0.15;
  double mask_ratio = 0.8;    // of the selected: -> [MASK]
  double random_ratio = 0.1;  // of the selected: -> a random token (the rest stay)
  bool whole_word = false;    // select words (a token and its "##" continuations) together
};

class Masker {
 public:
  // `never_mask[id]`: specials ([CLS], [SEP], [PAD], [MASK]); `continuation[id]`: "##" pieces
  // (only read with whole_word). Both have one entry per vocabulary id.
  Masker(MaskingOptions opt, int64_t mask_id, int64_t vocab_size, std::vector<bool> never_mask,
         std::vector<bool> continuation);
  // Corrupts `ids` in place and fills `labels` (same length).
  void apply(std::vector<int64_t>& ids, std::vector<int64_t>& labels, Rng& rng) const;
  const MaskingOptions& options() const { return opt_; }

 private:
  MaskingOptions opt_;
  int64_t mask_id_, vocab_size_;
  std::vector<bool> never_, cont_;
};

}  // namespace lntune
