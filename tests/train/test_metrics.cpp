// Metrics on hand-checkable vectors; expected values computed with numpy (formulas of sklearn's
// accuracy/f1/matthews_corrcoef and scipy's pearsonr/spearmanr with average ranks for ties).
#include <gtest/gtest.h>

#include "train/metrics.h"
#include "train/schedule.h"
#include "util/error.h"

using namespace lntune;

TEST(Metrics, BinaryClassification) {
  std::vector<int> p{1, 1, 0, 0, 1, 0, 1, 1}, g{1, 0, 0, 1, 1, 0, 1, 0};  // tp 3, fp 2, fn 1, tn 2
  EXPECT_DOUBLE_EQ(accuracy(p, g), 0.625);
  EXPECT_NEAR(f1_binary(p, g), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(matthews_corr(p, g), 0.2581988897471611, 1e-12);  // (3*2 - 2*1) / sqrt(5*4*4*3)
  EXPECT_DOUBLE_EQ(matthews_corr({1, 1, 1}, {1, 0, 1}), 0.0);   // constant prediction: 0, as sklearn
  EXPECT_DOUBLE_EQ(f1_binary({0, 0}, {0, 0}), 0.0);
}

TEST(Metrics, MulticlassMcc) {
  EXPECT_NEAR(matthews_corr({0, 1, 2, 2, 1, 0, 2}, {0, 2, 2, 1, 1, 0, 2}), 0.5625, 1e-12);
}

TEST(Metrics, PearsonAndSpearmanWithTies) {
  std::vector<double> x{1, 2, 2, 3, 5, 4}, y{1, 3, 2, 4, 4, 6};
  EXPECT_NEAR(pearson(x, y), 0.8017539301734009, 1e-12);
  EXPECT_NEAR(spearman(x, y), 0.8823529411764706, 1e-12);  // ranks x: 1 2.5 2.5 4 6 5; y: 1 3 2 4.5 4.5 6
  auto m = compute_metrics({"pearson", "spearman"}, x, y);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_THROW(compute_metrics({"bleu"}, x, y), Error);
  EXPECT_THROW(accuracy({1}, {1, 0}), Error);
}

TEST(Schedule, LinearWarmupThenDecay) {
  // HF get_linear_schedule_with_warmup(warmup=2, total=10) at updates 0..10.
  std::vector<double> expect{0, 0.5, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0};
  for (int k = 0; k <= 10; ++k) EXPECT_DOUBLE_EQ(linear_schedule(1.0, k, 2, 10), expect[k]) << k;
}
