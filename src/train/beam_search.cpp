#include "train/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "util/error.h"

namespace lntune {

EarlyStopping parse_early_stopping(const std::string& s) {
  if (s == "false") return EarlyStopping::heuristic;
  if (s == "true") return EarlyStopping::on;
  if (s == "never") return EarlyStopping::never;
  throw Error("early_stopping must be false, true or \"never\", got \"" + s + "\"");
}

std::vector<int64_t> repeated_ngram_tokens(const std::vector<int64_t>& seq, int64_t n) {
  std::vector<int64_t> banned;
  const auto L = static_cast<int64_t>(seq.size());
  if (n <= 0 || L < n - 1) return banned;
  // Every complete n-gram window seq[i, i + n) whose first n - 1 tokens are the last n - 1.
  for (int64_t i = 0; i + n <= L; ++i)
    if (std::equal(seq.begin() + i, seq.begin() + i + n - 1, seq.end() - (n - 1))) banned.push_back(seq[i + n - 1]);
  return banned;
}

namespace {

// HF marks impossible candidates by adding -1e9 to their (fp32) scores; the same constant keeps
// the same order among them.
constexpr float kExcluded = -1.0e9f;

struct Beam {
  std::vector<int64_t> tokens;  // written so far (a finished one: eos dropped)
  float score = 0;
  bool finished = false;  // finished-beam slots only: false while the slot is still empty
};

// One prompt's search: num_beams running beams (all of one length) and num_beams finished slots.
struct Search {
  std::vector<int64_t> prompt;
  int64_t limit = 0;  // tokens it may write
  std::vector<Beam> running, finished;
  bool improvable = true;  // HF's is_early_stop_heuristic_unsatisfied (once false, stays false)
  bool done = false;
};

// Candidate c of a step: flat index beam * vocab + token over the prompt's beams, its score the
// beam's plus the token's log-prob. Sorted best first; equal scores by index, so the order does
// not depend on the sort (HF's torch.topk leaves it unspecified).
std::vector<int64_t> best_candidates(const std::vector<float>& scores, int64_t k) {
  std::vector<int64_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto better = [&](int64_t a, int64_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), better);
  idx.resize(static_cast<size_t>(k));
  return idx;
}

float penalised(float sum, int64_t length, double length_penalty) {
  // HF: a fp32 tensor divided by a Python float (length ** penalty), i.e. by that value in fp32.
  return sum / static_cast<float>(std::pow(static_cast<double>(length), length_penalty));
}

// One step of a prompt's search, given each running beam's next-token log-probs (rows of `lp`
// from `row`): HF's _get_top_k_continuations, _get_running_beams_for_next_iteration,
// _update_finished_beams and _check_early_stop_heuristic for one batch entry.
void step(Search& s, const std::vector<float>& lp, size_t row, int64_t vocab, const BeamSearchOptions& o) {
  const int64_t nb = o.num_beams;
  const auto written = static_cast<int64_t>(s.running[0].tokens.size());  // before this step
  std::vector<float> acc(static_cast<size_t>(nb * vocab));
  std::vector<int64_t> seq;
  for (int64_t b = 0; b < nb; ++b) {
    const float* r = lp.data() + (row + static_cast<size_t>(b)) * static_cast<size_t>(vocab);
    float* a = acc.data() + b * vocab;
    const float base = s.running[static_cast<size_t>(b)].score;
    for (int64_t t = 0; t < vocab; ++t) a[t] = std::isnan(r[t]) ? -std::numeric_limits<float>::infinity() : r[t] + base;
    if (o.no_repeat_ngram_size > 0) {
      seq = s.prompt;
      seq.insert(seq.end(), s.running[static_cast<size_t>(b)].tokens.begin(), s.running[static_cast<size_t>(b)].tokens.end());
      for (int64_t t : repeated_ngram_tokens(seq, o.no_repeat_ngram_size))
        if (t >= 0 && t < vocab) a[t] = -std::numeric_limits<float>::infinity();
    }
  }
  // 2 * num_beams candidates (one eos token): enough that num_beams of them do not end.
  const int64_t K = std::min<int64_t>(2 * nb, nb * vocab);
  const auto cand = best_candidates(acc, K);
  const bool last = written + 1 >= s.limit;  // every candidate reaches the length limit
  std::vector<char> hits(static_cast<size_t>(K));
  std::vector<float> kept(static_cast<size_t>(K));  // running scores: a candidate that ends is excluded
  for (int64_t k = 0; k < K; ++k) {
    hits[k] = last || cand[k] % vocab == o.eos;
    kept[k] = acc[cand[k]] + (hits[k] ? kExcluded : 0.0f);
  }
  auto extend = [&](int64_t k, bool drop_eos) {
    std::vector<int64_t> t = s.running[static_cast<size_t>(cand[k] / vocab)].tokens;
    if (!(drop_eos && cand[k] % vocab == o.eos)) t.push_back(cand[k] % vocab);
    return t;
  };

  // Finished beams: the candidates among the best num_beams that end, scored with the length
  // penalty (the eos counts in the length), merged with the finished slots; the best num_beams
  // stay. None once the search cannot improve, or (early_stopping true) once every slot is filled.
  const bool full = std::all_of(s.finished.begin(), s.finished.end(), [](const Beam& b) { return b.finished; });
  std::vector<Beam> merged = s.finished;
  if (s.improvable && !(full && o.early_stopping == EarlyStopping::on))
    for (int64_t k = 0; k < std::min(K, nb); ++k)
      if (hits[k]) merged.push_back({extend(k, true), penalised(acc[cand[k]], written + 1, o.length_penalty), true});
  std::stable_sort(merged.begin(), merged.end(), [](const Beam& a, const Beam& b) { return a.score > b.score; });
  merged.resize(static_cast<size_t>(nb));

  // Running beams: the best num_beams candidates that do not end (ended ones only fill in, at
  // their excluded scores, where too few go on).
  std::vector<int64_t> order(static_cast<size_t>(K));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return kept[a] > kept[b]; });
  std::vector<Beam> running;
  for (int64_t j = 0; j < nb; ++j) running.push_back({extend(order[j], false), kept[order[j]], false});
  s.running = std::move(running);
  s.finished = std::move(merged);

  // Can a running beam still beat the worst finished one? Its best possible score: the best
  // running sum at the current length, or (early_stopping "never", length_penalty > 0) at the
  // longest length it could reach.
  const int64_t best_length = o.early_stopping == EarlyStopping::never && o.length_penalty > 0.0 ? s.limit : written + 1;
  const float best_possible = penalised(s.running[0].score, best_length, o.length_penalty);
  float worst = s.finished[0].score;
  for (const auto& b : s.finished) worst = std::min(worst, b.score);
  bool any_better = false;
  for (const auto& b : s.finished) any_better = any_better || best_possible > (b.finished ? worst : kExcluded);
  s.improvable = s.improvable && any_better;
  const bool all_finished = std::all_of(s.finished.begin(), s.finished.end(), [](const Beam& b) { return b.finished; });
  const bool all_hit = std::all_of(hits.begin(), hits.end(), [](char h) { return h != 0; });
  s.done = !s.improvable || (all_finished && o.early_stopping == EarlyStopping::on) || all_hit;
}

}  // namespace

std::vector<Hypothesis> beam_search(const NextLogProbs& next, int64_t vocab, const std::vector<std::vector<int64_t>>& prompts,
                                    const BeamSearchOptions& o, int64_t max_length) {
  if (o.num_beams < 1) throw Error("beam search needs num_beams >= 1, got " + std::to_string(o.num_beams));
  if (vocab < 1) throw Error("beam search needs a vocabulary, got size " + std::to_string(vocab));
  const auto nb = static_cast<size_t>(o.num_beams);
  std::vector<Search> searches(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    Search& s = searches[i];
    s.prompt = prompts[i];
    s.limit = std::min<int64_t>(o.max_new_tokens, max_length - static_cast<int64_t>(s.prompt.size()));
    s.done = s.limit <= 0;
    // Beam 0 starts at 0 and the others excluded, so the first step expands the prompt once.
    s.running.assign(nb, Beam{{}, kExcluded, false});
    s.running[0].score = 0;
    s.finished.assign(nb, Beam{{}, kExcluded, false});
  }
  for (;;) {
    std::vector<size_t> active;
    std::vector<std::vector<int64_t>> seqs;
    for (size_t i = 0; i < searches.size(); ++i) {
      if (searches[i].done) continue;
      active.push_back(i);
      for (const auto& b : searches[i].running) {
        seqs.push_back(searches[i].prompt);
        seqs.back().insert(seqs.back().end(), b.tokens.begin(), b.tokens.end());
      }
    }
    if (active.empty()) break;
    const auto lp = next(seqs);
    if (lp.size() != seqs.size() * static_cast<size_t>(vocab))
      throw Error("beam search: the model gave " + std::to_string(lp.size()) + " log-probs for " + std::to_string(seqs.size()) +
                  " sequences of a " + std::to_string(vocab) + "-token vocabulary");
    for (size_t a = 0; a < active.size(); ++a) step(searches[active[a]], lp, a * nb, vocab, o);
  }
  std::vector<Hypothesis> out(prompts.size());
  for (size_t i = 0; i < searches.size(); ++i)
    if (searches[i].finished[0].finished) out[i] = {searches[i].finished[0].tokens, searches[i].finished[0].score};
  return out;
}

}  // namespace lntune
