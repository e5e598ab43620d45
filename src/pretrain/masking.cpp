#include "pretrain/masking.h"

#include "util/error.h"

namespace lntune {

Masker::Masker(MaskingOptions opt, int64_t mask_id, int64_t vocab_size, std::vector<bool> never_mask,
               std::vector<bool> continuation)
    : opt_(opt), mask_id_(mask_id), vocab_size_(vocab_size), never_(std::move(never_mask)), cont_(std::move(continuation)) {
  if (opt_.prob < 0 || opt_.prob > 1) throw Error("mask probability must be in [0, 1]");
  if (opt_.mask_ratio < 0 || opt_.random_ratio < 0 || opt_.mask_ratio + opt_.random_ratio > 1)
    throw Error("mask_ratio + random_ratio must be in [0, 1]");
  if (static_cast<int64_t>(never_.size()) != vocab_size_ || (opt_.whole_word && static_cast<int64_t>(cont_.size()) != vocab_size_))
    throw Error("masking tables must have one entry per vocabulary id");
}

void Masker::apply(std::vector<int64_t>& ids, std::vector<int64_t>& labels, Rng& rng) const {
  const size_t n = ids.size();
  labels.assign(n, -100);
  auto maskable = [&](size_t i) { return ids[i] >= 0 && ids[i] < vocab_size_ && !never_[static_cast<size_t>(ids[i])]; };
  std::vector<bool> selected(n, false);
  for (size_t i = 0; i < n;) {
    if (!maskable(i)) { ++i; continue; }
    size_t end = i + 1;  // the unit: one token, or a word with its continuations
    if (opt_.whole_word)
      while (end < n && maskable(end) && cont_[static_cast<size_t>(ids[end])]) ++end;
    if (rng.uniform() < opt_.prob)
      for (size_t k = i; k < end; ++k) selected[k] = true;
    i = end;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!selected[i]) continue;
    labels[i] = ids[i];
    double u = rng.uniform();
    if (u < opt_.mask_ratio) ids[i] = mask_id_;
    else if (u < opt_.mask_ratio + opt_.random_ratio) ids[i] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(vocab_size_)));
  }
}

}  // namespace lntune
