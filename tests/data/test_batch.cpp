// make_batch: dynamic padding to the longest row, rounded up to a multiple when asked (what CUDA
// graphs need: few shapes) but never past max_length when the rows fit in it; length-grouped
// training batches.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "data/batch.h"

using namespace lntune;

namespace {
Encoded row(int64_t n) {
  Encoded e;
  for (int64_t i = 0; i < n; ++i) {
    e.ids.push_back(10 + i);
    e.type_ids.push_back(i >= n / 2 ? 1 : 0);
  }
  e.label = 1;
  return e;
}
}  // namespace

TEST(Batch, PadsToTheLongestOrAMultiple) {
  std::vector<Encoded> data{row(5), row(19), row(3)};
  auto b = make_batch(data, {0, 2}, 0, false);
  EXPECT_EQ(b.inputs.input_ids.sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(b.tokens, 8);
  EXPECT_EQ(make_batch(data, {0, 1}, 0, false, 16).inputs.input_ids.size(1), 32);
  EXPECT_EQ(make_batch(data, {0, 1}, 0, false, 16, 24).inputs.input_ids.size(1), 24);  // the bound
  EXPECT_EQ(make_batch(data, {0, 2}, 0, false, 16, 24).inputs.input_ids.size(1), 16);
  // The padding is pads, masked out, type 0: the same rows as without it.
  auto p = make_batch(data, {0, 2}, 7, false, 16, 24);
  EXPECT_EQ(p.tokens, 8);
  EXPECT_TRUE(torch::equal(p.inputs.input_ids.narrow(1, 0, 5), make_batch(data, {0, 2}, 7, false).inputs.input_ids));
  EXPECT_TRUE(torch::equal(p.inputs.input_ids.narrow(1, 5, 11), torch::full({2, 11}, 7, torch::kLong)));
  EXPECT_EQ(p.inputs.attention_mask.sum().item<int64_t>(), 8);
  EXPECT_EQ(p.inputs.token_type_ids.narrow(1, 5, 11).abs().sum().item<int64_t>(), 0);
}

// train.group_by_length: every row once per epoch, megabatches of 50 batches sorted by length, so
// a batch's padding is a fraction of what random batches carry; the same batches for the same
// (seed, epoch), others for another epoch.
TEST(Batch, LengthGroupedBatchesCoverTheEpochAndShrinkPadding) {
  std::mt19937_64 rng(5);
  std::vector<Encoded> data;
  for (int i = 0; i < 1234; ++i) data.push_back(row(2 + static_cast<int64_t>(rng() % 60)));
  const int64_t bs = 8;
  auto grouped = length_grouped_batches(data, bs, 42, 0);
  std::vector<size_t> seen;
  for (const auto& b : grouped) {
    EXPECT_LE(b.size(), static_cast<size_t>(bs));
    seen.insert(seen.end(), b.begin(), b.end());
  }
  std::sort(seen.begin(), seen.end());
  std::vector<size_t> all(data.size());
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(seen, all);
  // The rows of each megabatch are those train_batches draws for the epoch, in another order.
  auto plain = train_batches(data.size(), bs, 42, 0);
  std::vector<size_t> first_plain, first_grouped;
  for (int64_t k = 0; k < kLengthGroupBatches; ++k) {
    first_plain.insert(first_plain.end(), plain[k].begin(), plain[k].end());
    first_grouped.insert(first_grouped.end(), grouped[k].begin(), grouped[k].end());
  }
  std::sort(first_plain.begin(), first_plain.end());
  std::sort(first_grouped.begin(), first_grouped.end());
  EXPECT_EQ(first_plain, first_grouped);
  // Padding: tokens padded in / tokens real, grouped vs plain.
  auto padding = [&](const std::vector<std::vector<size_t>>& batches) {
    int64_t padded = 0, real = 0;
    for (const auto& b : batches) {
      size_t longest = 0;
      for (size_t i : b) {
        longest = std::max(longest, data[i].ids.size());
        real += static_cast<int64_t>(data[i].ids.size());
      }
      padded += static_cast<int64_t>(longest * b.size());
    }
    return static_cast<double>(padded - real) / static_cast<double>(real);
  };
  EXPECT_LT(padding(grouped), 0.1 * padding(plain)) << padding(grouped) << " vs " << padding(plain);
  EXPECT_EQ(length_grouped_batches(data, bs, 42, 0), grouped);
  EXPECT_NE(length_grouped_batches(data, bs, 42, 1), grouped);
  // Within a megabatch the steps are not longest-to-shortest.
  bool descending = true;
  for (int64_t k = 1; k < kLengthGroupBatches; ++k)
    descending = descending && data[grouped[k][0]].ids.size() <= data[grouped[k - 1][0]].ids.size();
  EXPECT_FALSE(descending);
}
