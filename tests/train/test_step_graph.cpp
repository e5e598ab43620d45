// CUDA graphs of a training step (train/step_graph.h) against the same steps run eagerly: the
// fixture BERT under LN-Tuning, two batch shapes, an lr that changes every step (so a replay that
// kept the captured step's AdamW scalars would drift), graph and eager losses and weights equal.
// On a machine without CUDA only the error of a CPU build is checked; the GPU machine runs the rest
// (scripts/gpu_checks.sh tests).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "io/checkpoint.h"
#include "peft/method.h"
#include "test_paths.h"
#include "train/adamw.h"
#include "train/run_state.h"
#include "train/step_graph.h"
#include "util/error.h"

using namespace lntune;

namespace {

struct Run {
  std::vector<double> losses;
  std::vector<StepGraphs::Ran> ran;
  torch::Tensor weights;  // the trainable tensors afterwards, flattened
};

// `steps` LN-Tuning steps of the fixture BERT on CUDA (eval mode: no dropout, so that eager and
// replayed steps compute the same thing), batch 4 x 8, every third step 4 x 12; `graphed`: through
// StepGraphs (warmup 1, one graph at most: the 4 x 12 steps stay eager after the capture).
Run train(bool graphed, int steps, bool dropout = false, double lr_scale = 1.0) {
  torch::manual_seed(0);
  auto lm = load_model(test::fixtures() + "/bert_seq_cls", std::nullopt, NormOptions());
  auto& model = *lm.model;
  peft::apply_methods(model, nlohmann::json{{"name", "ln"}}, "test.json");
  model.to(torch::kCUDA);
  if (dropout)
    model.train();
  else
    model.eval();
  AdamWOptions o;
  o.scalars_on_device = graphed;
  AdamW opt(trainable_params(model, 0.01), o);
  auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(torch::kCUDA));
  auto step = [&](const std::vector<torch::Tensor>& in) {
    Batch b;
    b.input_ids = in[0];
    b.attention_mask = in[1];
    auto loss = torch::cross_entropy_loss(model.forward(b).logits, in[2]);
    loss.backward();
    loss_sum.add_(loss.detach().to(torch::kDouble));
    opt.clip_grad_norm(1.0);
    opt.apply_step();
    opt.zero_grad();
  };
  StepGraphOptions go;
  go.warmup = 1;
  go.max_graphs = 1;
  StepGraphs graphs(step, go);
  Run r;
  auto gen = torch::make_generator<torch::CPUGeneratorImpl>(17);
  for (int i = 0; i < steps; ++i) {
    const int64_t T = i % 3 == 2 ? 12 : 8;
    auto ids = torch::randint(5, 120, {4, T}, gen, torch::kLong);
    auto mask = torch::ones({4, T}, torch::kLong);
    mask.narrow(1, T - 2, 2).narrow(0, 0, 2).zero_();  // two padded rows
    auto labels = torch::randint(0, 3, {4}, gen, torch::kLong);
    std::vector<torch::Tensor> in{ids.cuda(), mask.cuda(), labels.cuda()};
    opt.begin_step(lr_scale * 1e-2 / (i + 1));
    if (graphed)
      r.ran.push_back(graphs.run(in));
    else
      step(in);
    r.losses.push_back(loss_sum.item<double>());
    loss_sum.zero_();
  }
  std::vector<torch::Tensor> flat;
  for (auto& p : opt.params()) flat.push_back(p.value.detach().flatten().cpu());
  r.weights = torch::cat(flat);
  return r;
}

}  // namespace

TEST(StepGraph, CpuBuildSaysSo) {
  if (StepGraphs::available()) GTEST_SKIP() << "this build has CUDA graphs";
  try {
    StepGraphs g([](const std::vector<torch::Tensor>&) {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "CUDA graphs: this build of lntune has no CUDA (LibTorch without CUDA)");
  }
}

TEST(StepGraph, CudaReplayEqualsEagerSteps) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: CUDA graphs run on the GPU machine";
  const int steps = 9;
  auto eager = train(false, steps), graphed = train(true, steps);
  using R = StepGraphs::Ran;
  // 4x8: eager (warm-up), captured (+ replayed), then replays; 4x12: eager (the one graph is taken).
  EXPECT_EQ(graphed.ran, (std::vector<R>{R::Eager, R::Captured, R::Eager, R::Replayed, R::Replayed, R::Eager,
                                          R::Replayed, R::Replayed, R::Eager}));
  for (int i = 0; i < steps; ++i) EXPECT_NEAR(graphed.losses[i], eager.losses[i], 1e-6 * std::abs(eager.losses[i])) << i;
  EXPECT_TRUE(torch::allclose(graphed.weights, eager.weights, 1e-6, 1e-7)) << (graphed.weights - eager.weights).abs().max();
  // The steps trained: the weights moved, and not as they would with another lr.
  EXPECT_FALSE(torch::allclose(graphed.weights, train(true, steps, false, 0.5).weights, 1e-6, 1e-7));
}

TEST(StepGraph, CudaReplaysDrawNewDropout) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: CUDA graphs run on the GPU machine";
  // lr 0: the weights stay, so replays of the same shape differ only by their dropout masks, which
  // capture registers with the CUDA generator so that every replay draws anew.
  auto r = train(true, 8, /*dropout=*/true, /*lr_scale=*/0.0);
  std::vector<double> replayed;
  for (size_t i = 0; i < r.ran.size(); ++i)
    if (r.ran[i] == StepGraphs::Ran::Replayed) replayed.push_back(r.losses[i]);
  ASSERT_GE(replayed.size(), 3u);
  EXPECT_NE(replayed[0], replayed[1]);
  EXPECT_NE(replayed[1], replayed[2]);
}
