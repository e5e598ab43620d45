// Co-occurrence counts and PPMI against the definitions computed here with plain loops over a
// dense table (the reference beside the check).
#include <gtest/gtest.h>

#include <cmath>

#include "pretrain/cooccurrence.h"
#include "util/error.h"
#include "util/rng.h"

using namespace lntune;

namespace {

using Dense = std::vector<std::vector<double>>;

// The definition: pairs at distance d <= w add 1/d both ways, none involving or crossing `sep`.
Dense dense_counts(const std::vector<int32_t>& ids, int64_t V, int32_t sep, int w) {
  Dense x(static_cast<size_t>(V), std::vector<double>(static_cast<size_t>(V), 0.0));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == sep) continue;
    for (size_t j = i + 1; j < ids.size() && j <= i + static_cast<size_t>(w); ++j) {
      if (ids[j] == sep) break;
      x[static_cast<size_t>(ids[i])][static_cast<size_t>(ids[j])] += 1.0 / static_cast<double>(j - i);
      x[static_cast<size_t>(ids[j])][static_cast<size_t>(ids[i])] += 1.0 / static_cast<double>(j - i);
    }
  }
  return x;
}

std::vector<int32_t> random_stream(size_t n, int32_t V, int32_t sep, uint64_t seed) {
  Rng r(seed);
  std::vector<int32_t> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(r.below(8) == 0 ? sep : static_cast<int32_t>(r.below(static_cast<uint64_t>(V))));
  return ids;
}

}  // namespace

TEST(Cooccurrence, CountsMatchTheDefinition) {
  const int32_t V = 23, sep = 5;
  auto ids = random_stream(3000, V, sep, 7);
  for (int w : {1, 2, 4}) {
    auto m = cooccurrence_counts(ids, V, sep, w);
    auto ref = dense_counts(ids, V, sep, w);
    int64_t nonzero = 0;
    for (int32_t a = 0; a < V; ++a)
      for (int32_t b = 0; b < V; ++b) {
        EXPECT_NEAR(m.at(a, b), ref[static_cast<size_t>(a)][static_cast<size_t>(b)], 1e-3) << "w " << w << " (" << a << ", " << b << ")";
        nonzero += ref[static_cast<size_t>(a)][static_cast<size_t>(b)] > 0;
      }
    EXPECT_EQ(m.nnz(), nonzero) << "w " << w;
    for (int32_t b = 0; b < V; ++b) EXPECT_EQ(m.at(sep, b), 0.0f);
  }
}

TEST(Cooccurrence, NeverAcrossASeparator) {
  // "1 2 | 3 4": 2 and 3 are 2 apart but in different documents.
  auto m = cooccurrence_counts({1, 2, 9, 3, 4}, 10, 9, 4);
  EXPECT_EQ(m.at(2, 3), 0.0f);
  EXPECT_EQ(m.at(1, 4), 0.0f);
  EXPECT_FLOAT_EQ(m.at(1, 2), 1.0f);
  EXPECT_FLOAT_EQ(m.at(4, 3), 1.0f);
  auto w2 = cooccurrence_counts({1, 2, 3}, 10, 9, 2);
  EXPECT_FLOAT_EQ(w2.at(1, 3), 0.5f);  // distance 2 counts 1/2
  EXPECT_FLOAT_EQ(w2.at(3, 1), 0.5f);
}

TEST(Cooccurrence, PpmiMatchesTheDefinition) {
  const int32_t V = 17, sep = 0;
  auto ids = random_stream(2000, V, sep, 11);
  auto counts = cooccurrence_counts(ids, V, sep, 3);
  const double cds = 0.75;
  auto ref = dense_counts(ids, V, sep, 3);
  std::vector<double> row(static_cast<size_t>(V), 0.0), ctx(static_cast<size_t>(V), 0.0);
  double total = 0, ctx_total = 0;
  for (size_t a = 0; a < row.size(); ++a)
    for (size_t b = 0; b < row.size(); ++b) row[a] += ref[a][b];
  for (size_t a = 0; a < row.size(); ++a) {
    total += row[a];
    ctx[a] = std::pow(row[a], cds);
    ctx_total += ctx[a];
  }
  auto m = ppmi(counts, cds);
  int64_t positive = 0;
  for (size_t a = 0; a < row.size(); ++a)
    for (size_t b = 0; b < row.size(); ++b) {
      double want = 0;
      if (ref[a][b] > 0) want = std::max(0.0, std::log(ref[a][b] * total / (row[a] * ctx[b] * total / ctx_total)));
      positive += want > 0;
      EXPECT_NEAR(m.at(static_cast<int64_t>(a), static_cast<int32_t>(b)), want, 1e-4) << a << ", " << b;
    }
  EXPECT_EQ(m.nnz(), positive);
  EXPECT_GT(positive, 0);
}

TEST(Cooccurrence, RejectsBadInput) {
  EXPECT_THROW(cooccurrence_counts({1, 2, 30}, 10, 9, 2), Error);
  EXPECT_THROW(cooccurrence_counts({1, 2}, 10, 9, 0), Error);
  auto m = cooccurrence_counts({1, 2}, 10, 9, 1);
  EXPECT_THROW(ppmi(m, 0.0), Error);
}
