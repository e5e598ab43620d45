#include "train/text_metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "util/error.h"

namespace lntune {

namespace {

void same_count(size_t hyps, size_t refs) {
  if (hyps != refs) throw Error("text metrics: " + std::to_string(hyps) + " hypotheses, " + std::to_string(refs) + " reference lists");
}

// BLEU, NIST and CIDEr need at least one reference per hypothesis.
void check_references(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs) {
  same_count(hyps.size(), refs.size());
  for (size_t i = 0; i < refs.size(); ++i)
    if (refs[i].empty()) throw Error("text metrics: hypothesis " + std::to_string(i) + " has no reference");
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
  check_references(hyps, refs);
  constexpr size_t kMaxN = 4;
  double matched[kMaxN] = {}, total[kMaxN] = {};
  double hyp_len = 0, ref_len = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    const Words& h = hyps[i];
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

double corpus_nist(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs) {
  check_references(hyps, refs);
  constexpr size_t kMaxN = 5;
  // Information weights from every reference's n-grams, n = 1..5.
  std::map<std::string, int> freq;
  double ref_words = 0;
  for (const auto& rs : refs) {
    for (const auto& r : rs) {
      for (size_t n = 1; n <= kMaxN; ++n)
        for (const auto& [g, c] : ngram_counts(r, n)) freq[g] += c;
      ref_words += static_cast<double>(r.size());
    }
  }
  auto info = [&](const std::string& g) {
    const auto cut = g.rfind('\x01');
    const double prefix = cut == std::string::npos ? ref_words : freq.at(g.substr(0, cut));
    return std::log2(prefix / freq.at(g));
  };
  double sum_precision = 0, ref_len = 0, hyp_len = 0;
  for (size_t n = 1; n <= kMaxN; ++n) {
    double numerator = 0, denominator = 0;
    for (size_t i = 0; i < hyps.size(); ++i) {
      const auto counts = ngram_counts(hyps[i], n);
      double hyp_ngrams = 0;
      for (const auto& gc : counts) hyp_ngrams += gc.second;
      // The best reference: highest precision, then most information, then the longest (NLTK's
      // max over (precision, information, n-grams, length) tuples).
      double best_p = -1, best_info = 0;
      size_t best_len = 0;
      for (const auto& r : refs[i]) {
        const auto rc = ngram_counts(r, n);
        double information = 0;
        for (const auto& [g, c] : counts) {
          auto it = rc.find(g);
          if (it != rc.end()) information += info(g) * std::min(c, it->second);
        }
        const double p = hyp_ngrams == 0 ? 0 : information / hyp_ngrams;
        if (p > best_p || (p == best_p && (information > best_info || (information == best_info && r.size() > best_len)))) {
          best_p = p;
          best_info = information;
          best_len = r.size();
        }
      }
      numerator += best_info;
      denominator += hyp_ngrams;
      ref_len += static_cast<double>(best_len);
      hyp_len += static_cast<double>(hyps[i].size());
    }
    if (denominator > 0) sum_precision += numerator / denominator;
  }
  if (ref_len == 0) return 0;
  const double ratio = hyp_len / ref_len;
  if (ratio >= 1) return sum_precision;
  if (ratio <= 0) return 0;
  const double beta = std::log(0.5) / std::pow(std::log(1.5), 2);
  return sum_precision * std::exp(beta * std::pow(std::log(ratio), 2));
}

double cider(const std::vector<Words>& hyps, const std::vector<std::vector<Words>>& refs) {
  check_references(hyps, refs);
  if (hyps.empty()) return 0;
  constexpr size_t kMaxN = 4;
  constexpr double kSigma = 6.0;
  // counts[n - 1]: n-gram -> count, for one sentence.
  using Counts = std::vector<std::map<std::string, int>>;
  auto count_all = [&](const Words& w) {
    Counts c;
    for (size_t n = 1; n <= kMaxN; ++n) c.push_back(ngram_counts(w, n));
    return c;
  };
  std::vector<std::vector<Counts>> ref_counts(refs.size());
  std::map<std::string, double> df;  // in how many hypotheses' reference sets an n-gram occurs
  for (size_t i = 0; i < refs.size(); ++i) {
    std::set<std::string> seen;
    for (const auto& r : refs[i]) {
      ref_counts[i].push_back(count_all(r));
      for (const auto& per_n : ref_counts[i].back())
        for (const auto& gc : per_n) seen.insert(gc.first);
    }
    for (const auto& g : seen) df[g] += 1;
  }
  const double log_docs = std::log(static_cast<double>(hyps.size()));
  struct Vec {
    std::vector<std::map<std::string, double>> w;  // TF-IDF weight per n-gram, per n
    std::vector<double> norm;
    double bigrams = 0;  // pycocoevalcap's "length": the bigram count
  };
  auto tfidf = [&](const Counts& c) {
    Vec v{std::vector<std::map<std::string, double>>(kMaxN), std::vector<double>(kMaxN, 0.0), 0};
    for (size_t n = 0; n < kMaxN; ++n) {
      for (const auto& [g, tf] : c[n]) {
        auto it = df.find(g);
        const double idf = log_docs - std::log(std::max(1.0, it == df.end() ? 0.0 : it->second));
        const double x = tf * idf;
        v.w[n][g] = x;
        v.norm[n] += x * x;
        if (n == 1) v.bigrams += tf;
      }
      v.norm[n] = std::sqrt(v.norm[n]);
    }
    return v;
  };
  double total = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    const Vec h = tfidf(count_all(hyps[i]));
    double score = 0;
    for (const auto& rc : ref_counts[i]) {
      const Vec r = tfidf(rc);
      const double d = h.bigrams - r.bigrams;
      const double penalty = std::exp(-d * d / (2 * kSigma * kSigma));
      for (size_t n = 0; n < kMaxN; ++n) {
        double dot = 0;
        for (const auto& [g, x] : h.w[n]) {
          auto it = r.w[n].find(g);
          if (it != r.w[n].end()) dot += std::min(x, it->second) * it->second;
        }
        if (h.norm[n] != 0 && r.norm[n] != 0) dot /= h.norm[n] * r.norm[n];
        score += dot * penalty;
      }
    }
    total += 10.0 * score / kMaxN / static_cast<double>(refs[i].size());
  }
  return total / static_cast<double>(hyps.size());
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
    else if (n == "nist") out[n] = corpus_nist(hw, rw);
    else if (n == "rouge_l") out[n] = rouge_l(hw, rw);
    else if (n == "cider") out[n] = cider(hw, rw);
    else throw Error("unknown metric '" + n + "'");
  }
  return out;
}

}  // namespace lntune
