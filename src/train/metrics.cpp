#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace lntune {

namespace {
void same_size(size_t a, size_t b) {
  if (a != b) throw Error("metrics: " + std::to_string(a) + " predictions for " + std::to_string(b) + " labels");
  if (a == 0) throw Error("metrics: no predictions");
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}
}  // namespace

double accuracy(const std::vector<int>& p, const std::vector<int>& g) {
  same_size(p.size(), g.size());
  size_t ok = 0;
  for (size_t i = 0; i < p.size(); ++i) ok += p[i] == g[i];
  return static_cast<double>(ok) / static_cast<double>(p.size());
}

double f1_binary(const std::vector<int>& p, const std::vector<int>& g) {
  same_size(p.size(), g.size());
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    tp += p[i] == 1 && g[i] == 1;
    fp += p[i] == 1 && g[i] != 1;
    fn += p[i] != 1 && g[i] == 1;
  }
  return tp == 0 ? 0.0 : 2 * tp / (2 * tp + fp + fn);
}

double matthews_corr(const std::vector<int>& p, const std::vector<int>& g) {
  same_size(p.size(), g.size());
  int k = 1 + std::max(*std::max_element(p.begin(), p.end()), *std::max_element(g.begin(), g.end()));
  std::vector<double> t(k, 0), pk(k, 0);
  double c = 0, s = static_cast<double>(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    t[g[i]] += 1;
    pk[p[i]] += 1;
    c += p[i] == g[i];
  }
  double tp = 0, tt = 0, pp = 0;
  for (int i = 0; i < k; ++i) {
    tp += t[i] * pk[i];
    tt += t[i] * t[i];
    pp += pk[i] * pk[i];
  }
  double den = std::sqrt((s * s - pp) * (s * s - tt));
  return den == 0 ? 0.0 : (c * s - tp) / den;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  same_size(x.size(), y.size());
  double n = static_cast<double>(x.size());
  double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx == 0 || syy == 0 ? 0.0 : sxy / std::sqrt(sxx * syy);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) { return pearson(ranks(x), ranks(y)); }

std::map<std::string, double> compute_metrics(const std::vector<std::string>& names, const std::vector<double>& pred,
                                              const std::vector<double>& gold) {
  std::vector<int> pi(pred.begin(), pred.end()), gi(gold.begin(), gold.end());
  std::map<std::string, double> out;
  for (const auto& n : names) {
    if (n == "accuracy") out[n] = accuracy(pi, gi);
    else if (n == "f1") out[n] = f1_binary(pi, gi);
    else if (n == "mcc") out[n] = matthews_corr(pi, gi);
    else if (n == "pearson") out[n] = pearson(pred, gold);
    else if (n == "spearman") out[n] = spearman(pred, gold);
    else throw Error("unknown metric '" + n + "'");
  }
  return out;
}

}  // namespace lntune
