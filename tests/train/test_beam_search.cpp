// Beam search (HF generate's rules) on small language models given as tables of log-probs:
// cases worked by hand, one per rule (the search finds what greedy misses, the length penalty and
// the eos counted in the length, an eos ranked below num_beams left out, early_stopping true /
// false / "never"), and on random models the exhaustive search beside it: with beams enough to
// keep every prefix, the result must be the best sequence by the same score, found by trying them
// all. HF's own generate on the HF GPT-2 fixture: tests/train/test_generate.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "train/beam_search.h"
#include "util/error.h"

using namespace lntune;

namespace {

constexpr int64_t kEos = 0, kA = 1, kB = 2;

float lg(double p) { return static_cast<float>(std::log(p)); }

// A model over {eos, A, B} whose next-token probabilities depend on what it has written since the
// prompt (the prompt is the single token 7); contexts not in the table are uniform.
struct TableLm {
  std::map<std::vector<int64_t>, std::vector<double>> next;
  int64_t calls = 0;
  NextLogProbs fn() {
    return [this](const std::vector<std::vector<int64_t>>& seqs) {
      ++calls;
      std::vector<float> out;
      for (const auto& s : seqs) {
        const std::vector<int64_t> written(s.begin() + 1, s.end());
        const auto it = next.find(written);
        const std::vector<double> p = it == next.end() ? std::vector<double>{1.0 / 3, 1.0 / 3, 1.0 / 3} : it->second;
        for (double q : p) out.push_back(lg(q));
      }
      return out;
    };
  }
};

BeamSearchOptions beams(int64_t n, double length_penalty, int64_t max_new, EarlyStopping e = EarlyStopping::heuristic) {
  BeamSearchOptions o;
  o.num_beams = n;
  o.length_penalty = length_penalty;
  o.max_new_tokens = max_new;
  o.early_stopping = e;
  o.eos = kEos;
  return o;
}

Hypothesis search_one(TableLm& lm, const BeamSearchOptions& o) { return beam_search(lm.fn(), 3, {{7}}, o, 64)[0]; }

// A random model: each token's logit a hash of the whole sequence and the token, log-softmaxed in
// double, rounded to fp32 (as the model's fp32 log_softmax would give them).
NextLogProbs random_lm(int64_t vocab, uint64_t seed) {
  return [vocab, seed](const std::vector<std::vector<int64_t>>& seqs) {
    std::vector<float> out;
    for (const auto& s : seqs) {
      uint64_t h = seed;
      for (int64_t t : s) h = h * 1000003u + static_cast<uint64_t>(t) + 1;
      std::mt19937_64 g(h);
      std::uniform_real_distribution<double> u(-3, 3);
      std::vector<double> z(static_cast<size_t>(vocab));
      double m = -1e300, sum = 0;
      for (auto& x : z) m = std::max(m, x = u(g));
      for (double x : z) sum += std::exp(x - m);
      for (double x : z) out.push_back(static_cast<float>(x - m - std::log(sum)));
    }
    return out;
  };
}

// Every sequence the search could finish with, scored as beam search scores a finished one: the
// fp32 sum of its log-probs (eos included, added in order) over (length, eos counted) ^ penalty;
// the best of them.
void exhaustive(const NextLogProbs& next, int64_t vocab, std::vector<int64_t> seq, size_t prompt_len, float sum, int64_t limit,
                double penalty, Hypothesis& best, bool& any) {
  const auto lp = next({seq});
  const auto written = static_cast<int64_t>(seq.size() - prompt_len);
  for (int64_t t = 0; t < vocab; ++t) {
    const float s = sum + lp[static_cast<size_t>(t)];
    std::vector<int64_t> tokens(seq.begin() + static_cast<std::ptrdiff_t>(prompt_len), seq.end());
    if (t == kEos || written + 1 == limit) {
      if (t != kEos) tokens.push_back(t);
      const float score = s / static_cast<float>(std::pow(static_cast<double>(written + 1), penalty));
      if (!any || score > best.score) best = {tokens, score};
      any = true;
    } else {
      auto longer = seq;
      longer.push_back(t);
      exhaustive(next, vocab, longer, prompt_len, s, limit, penalty, best, any);
    }
  }
}

}  // namespace

TEST(BeamSearch, FindsTheLikelierSequenceGreedyMisses) {
  // Greedy takes A (0.5) then A (0.4): 0.20. B (0.4) then A (0.9) is 0.36.
  TableLm lm;
  lm.next = {{{}, {0.1, 0.5, 0.4}}, {{kA}, {0.25, 0.4, 0.35}}, {{kB}, {0.05, 0.9, 0.05}}};
  const auto two = search_one(lm, beams(2, 0.0, 2));
  EXPECT_EQ(two.tokens, (std::vector<int64_t>{kB, kA}));
  EXPECT_FLOAT_EQ(two.score, lg(0.4) + lg(0.9));
  const auto one = search_one(lm, beams(1, 0.0, 2));
  EXPECT_EQ(one.tokens, (std::vector<int64_t>{kA, kA}));
  EXPECT_EQ(lm.calls, 2 + 2);  // one call per step, each with num_beams sequences
}

TEST(BeamSearch, LengthPenaltyCountsTheEosAndPicksTheLongerText) {
  // Finished: [] (eos at once) 0.3; [A] 0.6 * 0.2; [A, A] 0.6 * 0.7 * 0.5 = 0.21; [A, A, A]
  // 0.6 * 0.7 * 0.3. Summed log-probs: [] wins (penalty 0); per token, eos counted, [A, A] does
  // (-1.56 / 3 beats -1.20 / 1 and [A, A, A]'s -2.07 / 3).
  TableLm lm;
  lm.next = {{{}, {0.3, 0.6, 0.1}}, {{kA}, {0.2, 0.7, 0.1}}, {{kA, kA}, {0.5, 0.3, 0.2}}};
  const auto sum = search_one(lm, beams(2, 0.0, 3));
  EXPECT_TRUE(sum.tokens.empty());
  EXPECT_FLOAT_EQ(sum.score, lg(0.3));
  const auto per_token = search_one(lm, beams(2, 1.0, 3));
  EXPECT_EQ(per_token.tokens, (std::vector<int64_t>{kA, kA}));
  EXPECT_FLOAT_EQ(per_token.score, (lg(0.6) + lg(0.7) + lg(0.5)) / 3.0f);
  // early_stopping true: both slots are filled after the second step ([] and [A]), so it stops
  // there with the better of the two, [A]: (log 0.6 + log 0.2) / 2.
  const auto early = search_one(lm, beams(2, 1.0, 3, EarlyStopping::on));
  EXPECT_EQ(early.tokens, (std::vector<int64_t>{kA}));
  EXPECT_FLOAT_EQ(early.score, (lg(0.6) + lg(0.2)) / 2.0f);
}

TEST(BeamSearch, AnEosRankedBelowTheBeamsIsNotKept) {
  // One beam, two candidates a step: eos (0.4) is second to A (0.6) at the first step, so [] is
  // not a finished beam even though it would win; [A] (eos at the last step) is.
  TableLm lm;
  lm.next = {{{}, {0.4, 0.6, 0.0001}}, {{kA}, {0.4, 0.3, 0.3}}};
  const auto h = search_one(lm, beams(1, 0.0, 2));
  EXPECT_EQ(h.tokens, (std::vector<int64_t>{kA}));
  EXPECT_FLOAT_EQ(h.score, lg(0.6) + lg(0.4));
}

TEST(BeamSearch, EarlyStoppingNeverLooksPastTheCurrentLength) {
  // One beam. After the first step [] is finished at log 0.5 / 1 and the running [A] has
  // log 0.45: at its current length it cannot do better (false stops), but at the longest
  // length, divided by 3, it could ("never" goes on) — and [A, A] ends at (log .45 + log .95 +
  // log .9) / 3 = -0.32, above -0.69.
  TableLm lm;
  lm.next = {{{}, {0.5, 0.45, 0.05}}, {{kA}, {0.04, 0.95, 0.01}}, {{kA, kA}, {0.9, 0.05, 0.05}}};
  const auto heuristic = search_one(lm, beams(1, 1.0, 3, EarlyStopping::heuristic));
  EXPECT_TRUE(heuristic.tokens.empty());
  EXPECT_FLOAT_EQ(heuristic.score, lg(0.5));
  EXPECT_EQ(lm.calls, 1);  // it stopped after the first step
  const auto never = search_one(lm, beams(1, 1.0, 3, EarlyStopping::never));
  EXPECT_EQ(never.tokens, (std::vector<int64_t>{kA, kA}));
  EXPECT_FLOAT_EQ(never.score, (lg(0.45) + lg(0.95) + lg(0.9)) / 3.0f);
}

TEST(BeamSearch, WithBeamsForEveryPrefixItIsTheExhaustiveBest) {
  // Vocabulary 5 (eos 0), at most 3 new tokens: 4 + 16 running prefixes, so 20 beams keep them
  // all, and every candidate of a step ranks within them. Where the early stop is exact — a
  // penalty <= 0 (the default rule), or > 0 with "never" — the search must return the best
  // sequence there is. Three prompts at once; a 6-position model leaves the 4-token prompt 2 new
  // tokens and the 6-token one none.
  const int64_t vocab = 5;
  const std::vector<std::vector<int64_t>> prompts = {{3}, {1, 2, 3, 4}, {4, 4, 4, 4, 4, 4}, {2, 1}};
  const std::vector<std::pair<double, EarlyStopping>> rules = {
      {0.0, EarlyStopping::heuristic}, {-0.5, EarlyStopping::heuristic}, {1.0, EarlyStopping::never}, {2.0, EarlyStopping::never}};
  for (uint64_t seed = 1; seed <= 6; ++seed)
    for (const auto& [penalty, rule] : rules) {
      const auto lm = random_lm(vocab, seed);
      auto o = beams(20, penalty, 3, rule);
      const auto got = beam_search(lm, vocab, prompts, o, 6);
      ASSERT_EQ(got.size(), prompts.size());
      for (size_t i = 0; i < prompts.size(); ++i) {
        const int64_t limit = std::min<int64_t>(3, 6 - static_cast<int64_t>(prompts[i].size()));
        if (limit <= 0) {
          EXPECT_TRUE(got[i].tokens.empty());
          continue;
        }
        Hypothesis best;
        bool any = false;
        exhaustive(lm, vocab, prompts[i], prompts[i].size(), 0.0f, limit, penalty, best, any);
        EXPECT_EQ(got[i].tokens, best.tokens) << "seed " << seed << " penalty " << penalty << " prompt " << i;
        EXPECT_FLOAT_EQ(got[i].score, best.score) << "seed " << seed << " penalty " << penalty << " prompt " << i;
      }
    }
}

TEST(BeamSearch, NeverRepeatsAnNgramOfTheGivenSize) {
  // A model that mostly writes the token it just wrote: without the rule its beams repeat
  // bigrams; with no_repeat_ngram_size 2 no bigram of prompt + text occurs twice.
  const int64_t vocab = 6;
  NextLogProbs sticky = [&](const std::vector<std::vector<int64_t>>& seqs) {
    std::vector<float> out;
    for (const auto& s : seqs)
      for (int64_t t = 0; t < vocab; ++t) out.push_back(t == s.back() ? lg(0.8) : t == kEos ? lg(0.001) : lg(0.199 / 4));
    return out;
  };
  auto o = beams(3, 1.0, 8);
  const std::vector<int64_t> prompt = {2, 3, 2};
  const auto unruled = beam_search(sticky, vocab, {prompt}, o, 64)[0];
  o.no_repeat_ngram_size = 2;
  const auto ruled = beam_search(sticky, vocab, {prompt}, o, 64)[0];
  auto repeats = [&](const std::vector<int64_t>& text) {
    std::vector<int64_t> s = prompt;
    s.insert(s.end(), text.begin(), text.end());
    std::set<std::pair<int64_t, int64_t>> seen;
    for (size_t i = 0; i + 1 < s.size(); ++i)
      if (!seen.insert({s[i], s[i + 1]}).second) return true;
    return false;
  };
  EXPECT_TRUE(repeats(unruled.tokens));
  EXPECT_FALSE(repeats(ruled.tokens));
  EXPECT_FALSE(ruled.tokens.empty());
}

TEST(BeamSearch, RepeatedNgramTokensByHand) {
  const std::vector<int64_t> s = {1, 2, 3, 1, 2};
  EXPECT_EQ(repeated_ngram_tokens(s, 3), (std::vector<int64_t>{3}));     // "1 2" was followed by 3
  EXPECT_EQ(repeated_ngram_tokens(s, 2), (std::vector<int64_t>{3}));     // "2" was followed by 3
  EXPECT_EQ(repeated_ngram_tokens(s, 1), (std::vector<int64_t>{1, 2, 3, 1, 2}));  // every token written
  EXPECT_TRUE(repeated_ngram_tokens(s, 5).empty());  // "2 3 1 2" never occurred before
  EXPECT_TRUE(repeated_ngram_tokens(s, 6).empty());  // no complete 6-gram
  EXPECT_TRUE(repeated_ngram_tokens(s, 0).empty());
  EXPECT_EQ(repeated_ngram_tokens({4, 4, 4}, 2), (std::vector<int64_t>{4, 4}));
}

TEST(BeamSearch, BadArgumentsAreErrors) {
  TableLm lm;
  EXPECT_THROW(beam_search(lm.fn(), 3, {{7}}, beams(0, 1.0, 3), 64), Error);
  NextLogProbs short_rows = [](const std::vector<std::vector<int64_t>>& seqs) { return std::vector<float>(seqs.size()); };
  EXPECT_THROW(beam_search(short_rows, 3, {{7}}, beams(2, 1.0, 3), 64), Error);
  EXPECT_EQ(parse_early_stopping("never"), EarlyStopping::never);
  EXPECT_EQ(parse_early_stopping("true"), EarlyStopping::on);
  EXPECT_EQ(parse_early_stopping("false"), EarlyStopping::heuristic);
  EXPECT_THROW(parse_early_stopping("sometimes"), Error);
}
