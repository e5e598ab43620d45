#include "pretrain/lm_batch.h"

#include "util/error.h"
#include "util/rng.h"

namespace lntune {

int64_t required_id(const Tokenizer& tok, const std::string& token, const std::string& dir) {
  auto id = tok.token_to_id(token);
  if (!id) fail(dir, "", "the vocabulary has no " + token + " token");
  return *id;
}

LmBatchMaker::LmBatchMaker(bool mlm, int64_t seq_length, const Tokenizer& tok, const std::string& tok_dir,
                           const MaskingOptions& masking)
    : mlm_(mlm), content_(seq_length - (mlm ? 2 : 0)) {
  if (content_ < 2) throw Error("sequence length " + std::to_string(seq_length) + " is too short for LM pretraining");
  if (!mlm_) return;
  cls_ = required_id(tok, "[CLS]", tok_dir);
  sep_ = required_id(tok, "[SEP]", tok_dir);
  int64_t mask = required_id(tok, "[MASK]", tok_dir);
  // Random replacements draw from the tokenizer's vocabulary (the model's may be padded).
  auto vocab = tok.vocab_by_id();
  std::vector<bool> never(vocab.size(), false), cont(vocab.size(), false);
  for (int64_t id : {cls_, sep_, mask, tok.pad_id()}) never[static_cast<size_t>(id)] = true;
  for (size_t i = 0; i < vocab.size(); ++i) cont[i] = vocab[i].rfind("##", 0) == 0;
  masker_.emplace(masking, mask, static_cast<int64_t>(vocab.size()), std::move(never), std::move(cont));
}

LmBatch LmBatchMaker::make(const TokenStream& s, const std::vector<int64_t>& starts, const std::vector<uint64_t>& seeds,
                           uint64_t run_seed) const {
  const int64_t B = static_cast<int64_t>(starts.size()), T = content_ + (mlm_ ? 2 : 0);
  if (seeds.size() != starts.size()) throw Error("one masking seed per block is needed");
  std::vector<int64_t> ids, positions, targets;
  ids.reserve(static_cast<size_t>(B * T));
  for (int64_t b = 0; b < B; ++b) {
    auto block = frame_block(s, starts[static_cast<size_t>(b)], content_, mlm_ ? cls_ : -1, sep_);
    if (mlm_) {
      std::vector<int64_t> labels;
      Rng rng(run_seed, seeds[static_cast<size_t>(b)]);
      masker_->apply(block, labels, rng);
      for (int64_t t = 0; t < T; ++t)
        if (labels[static_cast<size_t>(t)] >= 0) {
          positions.push_back(b * T + t);
          targets.push_back(labels[static_cast<size_t>(t)]);
        }
    } else {
      for (int64_t t = 0; t + 1 < T; ++t) {
        positions.push_back(b * T + t);
        targets.push_back(block[static_cast<size_t>(t + 1)]);
      }
    }
    ids.insert(ids.end(), block.begin(), block.end());
  }
  LmBatch out;
  out.inputs.input_ids = torch::tensor(ids, torch::kLong).view({B, T});
  out.inputs.lm_positions = torch::tensor(positions, torch::kLong);
  out.targets = torch::tensor(targets, torch::kLong);
  return out;
}

}  // namespace lntune
