#include "pretrain/cooccurrence.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace lntune {

float CsrMatrix::at(int64_t r, int32_t c) const {
  auto b = col.begin() + row_ptr[static_cast<size_t>(r)], e = col.begin() + row_ptr[static_cast<size_t>(r) + 1];
  auto it = std::lower_bound(b, e, c);
  return it != e && *it == c ? val[static_cast<size_t>(it - col.begin())] : 0.0f;
}

namespace {

struct Entry {
  uint64_t key;  // row * vocab + col
  double value;
};

// Sorted (key, value) runs merged with values of equal keys added.
std::vector<Entry> merge_add(const std::vector<Entry>& a, const std::vector<Entry>& b) {
  std::vector<Entry> out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].key < b[j].key)) out.push_back(a[i++]);
    else if (i == a.size() || b[j].key < a[i].key) out.push_back(b[j++]);
    else out.push_back({a[i].key, a[i++].value + b[j++].value});
  }
  return out;
}

CsrMatrix to_csr(const std::vector<Entry>& e, int64_t n) {
  CsrMatrix m;
  m.n = n;
  m.row_ptr.assign(static_cast<size_t>(n) + 1, 0);
  m.col.reserve(e.size());
  m.val.reserve(e.size());
  for (const auto& x : e) {
    ++m.row_ptr[x.key / static_cast<uint64_t>(n) + 1];
    m.col.push_back(static_cast<int32_t>(x.key % static_cast<uint64_t>(n)));
    m.val.push_back(static_cast<float>(x.value));
  }
  for (size_t r = 0; r < static_cast<size_t>(n); ++r) m.row_ptr[r + 1] += m.row_ptr[r];
  return m;
}

std::vector<double> row_sums(const CsrMatrix& m) {
  std::vector<double> s(static_cast<size_t>(m.n), 0.0);
  for (int64_t r = 0; r < m.n; ++r)
    for (int64_t k = m.row_ptr[static_cast<size_t>(r)]; k < m.row_ptr[static_cast<size_t>(r) + 1]; ++k)
      s[static_cast<size_t>(r)] += m.val[static_cast<size_t>(k)];
  return s;
}

}  // namespace

CsrMatrix cooccurrence_counts(const std::vector<int32_t>& ids, int64_t vocab, int32_t separator, int window) {
  if (window < 1) throw Error("co-occurrence window must be >= 1, got " + std::to_string(window));
  if (vocab < 1) throw Error("co-occurrence vocabulary must be >= 1");
  for (int32_t t : ids)
    if (t < 0 || t >= vocab) throw Error("token id " + std::to_string(t) + " outside the vocabulary of " + std::to_string(vocab));
  const uint64_t V = static_cast<uint64_t>(vocab);
  // One sorted run per distance (each pair as (a, b) and (b, a)), merged: memory stays at two
  // keys per token and distance instead of a V x V table.
  std::vector<Entry> total;
  std::vector<uint64_t> keys;
  for (int d = 1; d <= window; ++d) {
    keys.clear();
    for (size_t i = 0; i + static_cast<size_t>(d) < ids.size(); ++i) {
      int32_t a = ids[i], b = ids[i + static_cast<size_t>(d)];
      if (a == separator || b == separator) continue;
      // Across a document boundary: a separator lies strictly between i and i + d.
      bool crosses = false;
      for (int k = 1; k < d && !crosses; ++k) crosses = ids[i + static_cast<size_t>(k)] == separator;
      if (crosses) continue;
      keys.push_back(static_cast<uint64_t>(a) * V + static_cast<uint64_t>(b));
      keys.push_back(static_cast<uint64_t>(b) * V + static_cast<uint64_t>(a));
    }
    std::sort(keys.begin(), keys.end());
    std::vector<Entry> run;
    const double w = 1.0 / d;
    for (size_t i = 0; i < keys.size();) {
      size_t j = i;
      while (j < keys.size() && keys[j] == keys[i]) ++j;
      run.push_back({keys[i], w * static_cast<double>(j - i)});
      i = j;
    }
    total = total.empty() ? std::move(run) : merge_add(total, run);
  }
  return to_csr(total, vocab);
}

CsrMatrix ppmi(const CsrMatrix& counts, double context_smoothing) {
  if (!(context_smoothing > 0 && context_smoothing <= 1))
    throw Error("context smoothing must be in (0, 1], got " + std::to_string(context_smoothing));
  const auto rows = row_sums(counts);
  std::vector<double> ctx(rows.size(), 0.0);  // symmetric counts: column sums = row sums
  double total = 0, ctx_total = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    total += rows[i];
    ctx[i] = std::pow(rows[i], context_smoothing);
    ctx_total += ctx[i];
  }
  CsrMatrix out;
  out.n = counts.n;
  out.row_ptr.assign(static_cast<size_t>(counts.n) + 1, 0);
  if (total <= 0) return out;
  for (auto& c : ctx) c *= total / ctx_total;
  for (int64_t r = 0; r < counts.n; ++r) {
    for (int64_t k = counts.row_ptr[static_cast<size_t>(r)]; k < counts.row_ptr[static_cast<size_t>(r) + 1]; ++k) {
      const auto c = static_cast<size_t>(counts.col[static_cast<size_t>(k)]);
      double v = std::log(static_cast<double>(counts.val[static_cast<size_t>(k)]) * total / (rows[static_cast<size_t>(r)] * ctx[c]));
      if (v <= 0) continue;
      out.col.push_back(static_cast<int32_t>(c));
      out.val.push_back(static_cast<float>(v));
    }
    out.row_ptr[static_cast<size_t>(r) + 1] = out.nnz();
  }
  return out;
}

}  // namespace lntune
