// MLM corruption: selection rate, the 80/10/10 split, specials, whole words, determinism.
// The reference is the rule of Devlin et al. (and HF's DataCollatorForLanguageModeling): each
// maskable token selected with p = 0.15; of those 80% -> [MASK], 10% -> random, 10% kept.
#include <gtest/gtest.h>

#include <cmath>

#include "pretrain/masking.h"
#include "test_paths.h"
#include "tokenizers/tokenizer.h"
#include "util/error.h"

using namespace lntune;

namespace {
constexpr int64_t kVocab = 1000, kMask = 3;

// Ids 0..3 are specials (pad, cls, sep, mask); ids >= 500 are "##" continuations.
Masker make_masker(MaskingOptions o) {
  std::vector<bool> never(kVocab, false), cont(kVocab, false);
  for (int i = 0; i < 4; ++i) never[i] = true;
  for (int i = 500; i < kVocab; ++i) cont[i] = true;
  return Masker(o, kMask, kVocab, never, cont);
}

// A sequence like a real block: [CLS] words... [SEP], words of 1-3 pieces.
std::vector<int64_t> sample_ids(size_t n, uint64_t seed) {
  Rng r(seed);
  std::vector<int64_t> ids = {1};
  while (ids.size() + 1 < n) {
    ids.push_back(4 + static_cast<int64_t>(r.below(496)));
    for (uint64_t k = r.below(3); k > 0 && ids.size() + 1 < n; --k) ids.push_back(500 + static_cast<int64_t>(r.below(500)));
  }
  ids.push_back(2);
  return ids;
}
}  // namespace

TEST(Masking, EightyTenTenOnAFixedSeed) {
  auto m = make_masker({});
  int64_t maskable = 0, selected = 0, to_mask = 0, to_random = 0, kept = 0;
  for (uint64_t s = 0; s < 400; ++s) {
    auto ids = sample_ids(256, s), orig = ids;
    std::vector<int64_t> labels;
    Rng rng(7, s);
    m.apply(ids, labels, rng);
    ASSERT_EQ(labels.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (orig[i] >= 4) ++maskable;
      if (labels[i] == -100) {
        EXPECT_EQ(ids[i], orig[i]) << "an unselected token changed";
        continue;
      }
      ++selected;
      EXPECT_EQ(labels[i], orig[i]) << "the label is the original id";
      EXPECT_GE(orig[i], 4) << "a special token was selected";
      if (ids[i] == kMask) ++to_mask;
      else if (ids[i] == orig[i]) ++kept;
      else ++to_random;
    }
  }
  // ~102k maskable tokens: binomial standard deviations are ~0.0011 (rate) and ~0.003 (split).
  double rate = static_cast<double>(selected) / static_cast<double>(maskable);
  EXPECT_NEAR(rate, 0.15, 0.005);
  double sel = static_cast<double>(selected);
  EXPECT_NEAR(to_mask / sel, 0.80, 0.012);
  EXPECT_NEAR(to_random / sel, 0.10, 0.01);  // a random draw equal to the original counts as kept (1/1000)
  EXPECT_NEAR(kept / sel, 0.10, 0.01);
}

TEST(Masking, SameSeedSameCorruptionOtherSeedOther) {
  auto m = make_masker({});
  auto a = sample_ids(512, 1), b = a, c = a;
  std::vector<int64_t> la, lb, lc;
  Rng r1(42, 5), r2(42, 5), r3(42, 6);
  m.apply(a, la, r1);
  m.apply(b, lb, r2);
  m.apply(c, lc, r3);
  EXPECT_EQ(a, b);
  EXPECT_EQ(la, lb);
  EXPECT_NE(la, lc);
}

TEST(Masking, WholeWordSelectsEveryPieceOfAWord) {
  MaskingOptions o;
  o.whole_word = true;
  auto m = make_masker(o);
  int64_t words = 0, selected_words = 0;
  for (uint64_t s = 0; s < 200; ++s) {
    auto ids = sample_ids(256, s), orig = ids;
    std::vector<int64_t> labels;
    Rng rng(3, s);
    m.apply(ids, labels, rng);
    for (size_t i = 1; i + 1 < orig.size();) {
      size_t end = i + 1;
      while (end + 1 < orig.size() && orig[end] >= 500) ++end;
      ++words;
      bool first = labels[i] != -100;
      selected_words += first;
      for (size_t k = i; k < end; ++k) EXPECT_EQ(labels[k] != -100, first) << "a word was split at " << k;
      i = end;
    }
  }
  EXPECT_NEAR(static_cast<double>(selected_words) / static_cast<double>(words), 0.15, 0.01);
}

TEST(Masking, RealVocabularyNeverMasksSpecials) {
  auto tok = Tokenizer::from_dir(test::bert_vocab_dir());
  auto vocab = tok->vocab_by_id();
  ASSERT_EQ(vocab.size(), 30522u);
  EXPECT_EQ(vocab[103], "[MASK]");
  EXPECT_EQ(vocab[2015].rfind("##", 0), 0u) << vocab[2015];
  std::vector<bool> never(vocab.size(), false), cont(vocab.size(), false);
  for (int64_t id : {0, 101, 102, 103}) never[static_cast<size_t>(id)] = true;
  MaskingOptions o;
  o.prob = 1.0;  // select everything that may be selected
  Masker m(o, 103, static_cast<int64_t>(vocab.size()), never, cont);
  auto enc = tok->encode("The quick brown fox jumps over the lazy dog.");
  auto ids = enc.ids;
  std::vector<int64_t> labels;
  Rng rng(1);
  m.apply(ids, labels, rng);
  EXPECT_EQ(labels.front(), -100);  // [CLS]
  EXPECT_EQ(labels.back(), -100);   // [SEP]
  for (size_t i = 1; i + 1 < ids.size(); ++i) EXPECT_EQ(labels[i], enc.ids[i]);
}

TEST(Masking, RejectsBadOptions) {
  MaskingOptions o;
  o.mask_ratio = 0.95;
  EXPECT_THROW(make_masker(o), Error);
  o = {};
  o.prob = 1.5;
  EXPECT_THROW(make_masker(o), Error);
}
