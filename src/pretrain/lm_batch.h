// Batches for LM pretraining: blocks of the token stream framed for the model, with the
// positions the loss reads and their targets. MLM: [CLS] block [SEP], corrupted by the Masker,
// targets = original ids at the selected positions. CLM: the block as is, position t predicts
// token t + 1 (the last position predicts nothing).
#pragma once
#include <torch/torch.h>

#include <optional>
#include <vector>

#include "models/model.h"
#include "pretrain/corpus.h"
#include "pretrain/masking.h"
#include "tokenizers/tokenizer.h"

namespace lntune {

struct LmBatch {
  Batch inputs;           // input_ids [B, T], lm_positions [N] (flat b * T + t)
  torch::Tensor targets;  // [N] ids the logits at lm_positions must predict
};

// The id of `token`, or an Error naming `dir` when the vocabulary lacks it.
int64_t required_id(const Tokenizer& tok, const std::string& token, const std::string& dir);

class LmBatchMaker {
 public:
  // `seq_length` counts the model's positions (for MLM, [CLS] and [SEP] included). `masking`
  // is required for MLM (BERT tokenizer: [CLS], [SEP], [MASK] must exist) and ignored for CLM.
  LmBatchMaker(bool mlm, int64_t seq_length, const Tokenizer& tok, const std::string& tok_dir,
               const MaskingOptions& masking = {});
  int64_t content() const { return content_; }  // stream tokens per block
  // `seeds[i]` (with `run_seed`) drives block i's masking, so a batch is the same whatever ran
  // before it: resumed runs and evaluations see the same corruption.
  LmBatch make(const TokenStream& s, const std::vector<int64_t>& starts, const std::vector<uint64_t>& seeds,
               uint64_t run_seed) const;

 private:
  bool mlm_;
  int64_t content_;
  int64_t cls_ = -1, sep_ = -1;
  std::optional<Masker> masker_;
};

}  // namespace lntune
