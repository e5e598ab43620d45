// make_batch: dynamic padding to the longest row, rounded up to a multiple when asked (what CUDA
// graphs need: few shapes) but never past max_length when the rows fit in it.
#include <gtest/gtest.h>
#include <torch/torch.h>

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
