// Our AdamW against LibTorch's own torch::optim::AdamW: same parameters after several steps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/adamw.h"

using namespace lntune;

TEST(AdamW, MatchesTorchOptimAdamW) {
  torch::manual_seed(0);
  auto w0 = torch::randn({5, 3}), b0 = torch::randn({3});
  auto w1 = w0.clone().requires_grad_(true), b1 = b0.clone().requires_grad_(true);
  auto w2 = w0.clone().requires_grad_(true), b2 = b0.clone().requires_grad_(true);
  AdamW ours({{"w", w1, 0.01, {}, {}}, {"b", b1, 0.0, {}, {}}});
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{w2}, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-2).weight_decay(0.01)));
  groups.emplace_back(std::vector<torch::Tensor>{b2}, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-2).weight_decay(0.0)));
  torch::optim::AdamW theirs(std::move(groups), torch::optim::AdamWOptions(1e-2));
  for (int step = 0; step < 6; ++step) {
    auto x = torch::randn({4, 5});
    for (auto [w, b] : {std::make_pair(w1, b1), std::make_pair(w2, b2)}) {
      auto loss = (torch::matmul(x, w) + b).pow(2).mean();
      loss.backward();
    }
    ours.step(1e-2);
    theirs.step();
    ours.zero_grad();
    theirs.zero_grad();
  }
  EXPECT_TRUE(torch::allclose(w1, w2, 1e-6, 1e-7)) << (w1 - w2).abs().max();
  EXPECT_TRUE(torch::allclose(b1, b2, 1e-6, 1e-7));
  EXPECT_EQ(ours.steps(), 6);
  // State round-trips.
  AdamW copy({{"w", w1.detach().clone(), 0.01, {}, {}}, {"b", b1.detach().clone(), 0.0, {}, {}}});
  copy.load_state(ours.state(), ours.steps());
  EXPECT_TRUE(torch::equal(copy.params()[0].exp_avg_sq, ours.params()[0].exp_avg_sq));
}
