// BLEU and NIST against NLTK's corpus_bleu and corpus_nist, ROUGE-L and CIDEr against the E2E
// scripts' (pycocoevalcap's) definitions, on real E2E text (tests/fixtures/text_metrics.json, made
// by scripts/make_text_metric_fixture.py), and small cases worked by hand beside them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>

#include "test_paths.h"
#include "train/text_metrics.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {
nlohmann::json fixture() { return nlohmann::json::parse(read_file(test::fixtures() + "/text_metrics.json")); }
}  // namespace

TEST(TextMetrics, WordsAreTheFixturesWords) {
  const auto f = fixture();
  ASSERT_EQ(f["words"].size(), 40u);
  for (const auto& w : f["words"]) EXPECT_EQ(metric_words(w["text"].get<std::string>()), w["words"].get<Words>()) << w["text"];
  EXPECT_EQ(metric_words("  The Eagle's price: £20-25.\n"), (Words{"the", "eagle's", "price", ":", "£20", "-", "25", "."}));
  EXPECT_TRUE(metric_words(" \t").empty());
}

TEST(TextMetrics, CorpusBleuIsNltks) {
  const auto f = fixture();
  const auto refs = f["references"].get<std::vector<std::vector<Words>>>();
  ASSERT_EQ(f["corpora"].size(), 4u);
  for (const auto& c : f["corpora"]) {
    const auto hyps = c["hypotheses"].get<std::vector<Words>>();
    // NLTK without smoothing puts the smallest double in for an order with no match (6e-79 for
    // "reversed"); Papineni's BLEU, and ours, is 0 there.
    EXPECT_NEAR(corpus_bleu(hyps, refs), c["bleu"].get<double>(), 1e-12) << c["name"];
    EXPECT_NEAR(rouge_l(hyps, refs), c["rouge_l"].get<double>(), 1e-12) << c["name"];
  }
}

TEST(TextMetrics, CorpusNistIsNltks) {
  const auto f = fixture();
  const auto refs = f["references"].get<std::vector<std::vector<Words>>>();
  for (const auto& c : f["corpora"]) {
    // The corpora cover the length penalty ("halved"), clipping ("doubled") and unigram-only
    // matches ("reversed").
    EXPECT_NEAR(corpus_nist(c["hypotheses"].get<std::vector<Words>>(), refs), c["nist"].get<double>(), 1e-12) << c["name"];
  }
}

TEST(TextMetrics, CiderIsPycocoevalcaps) {
  const auto f = fixture();
  const auto refs = f["references"].get<std::vector<std::vector<Words>>>();
  for (const auto& c : f["corpora"])
    EXPECT_NEAR(cider(c["hypotheses"].get<std::vector<Words>>(), refs), c["cider"].get<double>(), 1e-12) << c["name"];
}

TEST(TextMetrics, NistAndCiderByHand) {
  // NIST, one segment "a b" against itself: unigram information log2(2 words / 1) = 1 each,
  // precision 1; the bigram's log2(count(a) / count(a b)) = 0; orders 3-5 have no n-gram (0,
  // where NLTK divides by zero). No length penalty.
  const Words ab = {"a", "b"}, abc = {"a", "b", "c"};
  EXPECT_NEAR(corpus_nist({ab}, {{ab}}), 1.0, 1e-15);
  // Against "a b c": information log2(3) per matched unigram, and 2/3 of the reference's length,
  // where the penalty is 0.5 by NIST's definition.
  EXPECT_NEAR(corpus_nist({ab}, {{abc}}), std::log2(3.0) * 0.5, 1e-14);
  EXPECT_EQ(corpus_nist({Words{}}, {{abc}}), 0.0);
  // CIDEr, two segments with no word in common, each hypothesis its only reference: every
  // n-gram's IDF is log(2 / 1), the vectors are equal, the cosine 1 for n = 1..4: 10.
  const Words h1 = {"a", "b", "c", "d"}, h2 = {"w", "x", "y", "z", "q"};
  EXPECT_NEAR(cider({h1, h2}, {{h1}, {h2}}), 10.0, 1e-12);
  // One segment: every reference n-gram is in all (one) documents, IDF 0, CIDEr 0 (as
  // pycocoevalcap gives).
  EXPECT_EQ(cider({h1}, {{h1}}), 0.0);
  // An empty hypothesis scores 0 and the other segment keeps its 10: a mean of 5.
  EXPECT_NEAR(cider({Words{}, h2}, {{h1}, {h2}}), 5.0, 1e-12);
}

TEST(TextMetrics, SmallCasesByHand) {
  // Identical: 1. One reference of two matching exactly is enough.
  const Words h = {"a", "b", "c", "d"};
  EXPECT_DOUBLE_EQ(corpus_bleu({h}, {{Words{"x"}, h}}), 1.0);
  EXPECT_DOUBLE_EQ(rouge_l({h}, {{h}}), 1.0);
  // Brevity: every n-gram of "a b c d" is in the 8-word reference, BP = exp(1 - 8/4).
  EXPECT_NEAR(corpus_bleu({h}, {{Words{"a", "b", "c", "d", "e", "f", "g", "h"}}}), std::exp(-1.0), 1e-15);
  // Clipping: "the the the the" against "the cat": unigram precision 1/4, no bigram match -> 0.
  EXPECT_EQ(corpus_bleu({Words(4, "the")}, {{Words{"the", "cat"}}}), 0.0);
  // The closest reference length, the shorter of two equally close (3 and 5 for 4 words): BP
  // exp(1 - 3/4) would be 1 (hyp longer), so with 3 chosen every precision 1 gives 1.
  EXPECT_DOUBLE_EQ(corpus_bleu({h}, {{Words{"a", "b", "c", "d", "e"}, Words{"a", "b", "c"}}}), 1.0);
  // ROUGE-L: LCS("a b c d", "a x c d e") = 3: P 3/4, R 3/5, F = (1 + 1.44) P R / (R + 1.44 P).
  const double p = 0.75, r = 0.6;
  EXPECT_NEAR(rouge_l({h}, {{Words{"a", "x", "c", "d", "e"}}}), 2.44 * p * r / (r + 1.44 * p), 1e-15);
  EXPECT_EQ(rouge_l({Words{}}, {{h}}), 0.0);
}

TEST(TextMetrics, NamedMetricsAndErrors) {
  auto m = text_metrics({"bleu", "nist", "rouge_l", "cider"}, {"A b c d.", "E f g h"}, {{"a b c d .", "z"}, {"e f g h"}});
  EXPECT_DOUBLE_EQ(m.at("bleu"), 1.0);
  EXPECT_DOUBLE_EQ(m.at("nist"), corpus_nist({Words{"a", "b", "c", "d", "."}, Words{"e", "f", "g", "h"}},
                                             {{Words{"a", "b", "c", "d", "."}, Words{"z"}}, {Words{"e", "f", "g", "h"}}}));
  EXPECT_DOUBLE_EQ(m.at("rouge_l"), 1.0);
  // CIDEr: the first hypothesis is one of its two references (cosine 1 for every n) and shares no
  // n-gram with the other (0): 5; the second, its only reference: 10.
  EXPECT_NEAR(m.at("cider"), 7.5, 1e-12);
  EXPECT_THROW(text_metrics({"meteor"}, {"a"}, {{"a"}}), Error);
  EXPECT_THROW(text_metrics({"bleu"}, {"a", "b"}, {{"a"}}), Error);
  EXPECT_THROW(corpus_bleu({Words{"a"}}, {{}}), Error);
  EXPECT_THROW(corpus_nist({Words{"a"}}, {{}}), Error);
  EXPECT_THROW(cider({Words{"a"}}, {{}}), Error);
}
