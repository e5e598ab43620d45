#include "train/text_metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace lntune {

namespace {

void same_count(size_t hyps, size_t refs) {
  if (hyps != refs) throw Error("text metrics: " + std::to_string(hyps) + " hypotheses, " + std::to_string(refs) + " reference lists");
}

// n-gram -> count, the n-gram's words joined by a separator no word holds.
std::map<std::string, int> ngram_counts(const Words& w, size_t n) {
  std::map<std::string, int> c;
  for (size_t i = 0; i + n <= w.size(); ++i) {
    std::string key = w[i];
    for (size_t k = 1; k < n; ++k) key += '\x01' + w[i + k];
    ++c[key];
  }
  return c;
}

size_t lcs_length(const Words& a, const Words& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (const auto& x : a) {
    for (size_t j = 1; j <= b.size(); ++j) cur[j] = x == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

Words metric_words(const std::string& text) {
  Words out;
  std::string w;
  auto flush = [&] {
    if (!w.empty()) out.push_back(std::move(w));
    w.clear();
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c) || c == '\'') {
      w += static_cast<char>(std::tolower(c));
    } else {
      flush();
      if (!std::isspace(c)) out.emplace_back(1, ch);
    }
  }
  flush();
  return out;
}

double corpus_bleu(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs) {
  same_count(hyps.size(), refs.size());
  constexpr size_t kMaxN = 4;
  double matched[kMaxN] = {}, total[kMaxN] = {};
  double hyp_len = 0, ref_len = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    const Words& h = hyps[i];
    if (refs[i].empty()) throw Error("text metrics: hypothesis " + std::to_string(i) + " has no reference");
    for (size_t n = 1; n <= kMaxN; ++n) {
      auto counts = ngram_counts(h, n);
      std::map<std::string, int> most;
      for (const auto& r : refs[i])
        for (const auto& [g, c] : ngram_counts(r, n)) most[g] = std::max(most[g], c);
      double m = 0, t = 0;
      for (const auto& [g, c] : counts) {
        auto it = most.find(g);
        m += std::min(c, it == most.end() ? 0 : it->second);
        t += c;
      }
      matched[n - 1] += m;
      total[n - 1] += std::max(1.0, t);  // NLTK's modified_precision: a denominator of at least 1
    }
    // The closest reference length, the shorter on a tie.
    size_t best = refs[i][0].size();
    for (const auto& r : refs[i]) {
      const auto d = std::labs(static_cast<long>(r.size()) - static_cast<long>(h.size()));
      const auto bd = std::labs(static_cast<long>(best) - static_cast<long>(h.size()));
      if (d < bd || (d == bd && r.size() < best)) best = r.size();
    }
    hyp_len += static_cast<double>(h.size());
    ref_len += static_cast<double>(best);
  }
  double log_p = 0;
  for (size_t n = 0; n < kMaxN; ++n) {
    if (matched[n] == 0) return 0;
    log_p += 0.25 * std::log(matched[n] / total[n]);
  }
  const double bp = hyp_len > ref_len ? 1.0 : std::exp(1.0 - ref_len / hyp_len);
  return bp * std::exp(log_p);
}

double rouge_l(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs) {
  same_count(hyps.size(), refs.size());
  if (hyps.empty()) return 0;
  constexpr double kBeta = 1.2;
  double sum = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    double p = 0, r = 0;
    for (const auto& ref : refs[i]) {
      const double l = static_cast<double>(lcs_length(hyps[i], ref));
      if (!hyps[i].empty()) p = std::max(p, l / static_cast<double>(hyps[i].size()));
      if (!ref.empty()) r = std::max(r, l / static_cast<double>(ref.size()));
    }
    if (p > 0 && r > 0) sum += (1 + kBeta * kBeta) * p * r / (r + kBeta * kBeta * p);
  }
  return sum / static_cast<double>(hyps.size());
}

std::map<std::string, double> text_metrics(const std::vector<std::string>& names, const std::vector<std::string>& hyps,
                                           const std::vector<std::vector<std::string>>& refs) {
  same_count(hyps.size(), refs.size());
  std::vector<Words> hw;
  std::vector<std::vector<Words>> rw(refs.size());
  for (const auto& h : hyps) hw.push_back(metric_words(h));
  for (size_t i = 0; i < refs.size(); ++i)
    for (const auto& r : refs[i]) rw[i].push_back(metric_words(r));
  std::map<std::string, double> out;
  for (const auto& n : names) {
    if (n == "bleu") out[n] = corpus_bleu(hw, rw);
    else if (n == "rouge_l") out[n] = rouge_l(hw, rw);
    else throw Error("unknown metric '" + n + "'");
  }
  return out;
}

}  // namespace lntune
