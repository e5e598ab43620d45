// CUDA graphs of a training step (train/step_graph.h) against the same steps run eagerly: the
// fixture BERT and GPT-2 under LN-Tuning, two batch shapes, an lr that changes every step (so a replay that
// kept the captured step's AdamW scalars would drift), graph and eager losses and weights equal.
// On a machine without CUDA only the error of a CPU build is checked; the GPU machine runs the rest
// (scripts/gpu_checks.sh tests). On every machine: every PEFT method's training step (BERT and
// GPT-2, both norm implementations, LayerNorm and DyT) runs no operator that waits for the
// device, which would make its capture fail on the GPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "io/checkpoint.h"
#include "peft/method.h"
#include "test_paths.h"
#include "train/adamw.h"
#include "train/op_count.h"
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

// `steps` LN-Tuning steps of fixture `dir` on CUDA, in eval mode (no dropout, so that eager and
// replayed steps compute the same thing) unless `dropout`; batch 4 x 8, every third step 4 x 12;
// `graphed`: through StepGraphs (warmup 1, one graph at most: the 4 x 12 steps stay eager after
// the capture).
Run train(bool graphed, int steps, bool dropout = false, double lr_scale = 1.0, const std::string& dir = "bert_seq_cls") {
  torch::manual_seed(0);
  auto lm = load_model(test::fixtures() + "/" + dir, Head::SequenceClassification, NormOptions());
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
    auto labels = torch::randint(0, 2, {4}, gen, torch::kLong);
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

// The operators of one training step as lntune train runs it under CUDA graphs (forward, loss,
// backward, the methods' after_backward, clipping, AdamW with its scalars on the device, zeroing)
// that wait for the device; the step runs once eagerly first, as StepGraphs warms up.
std::set<std::string> syncing_ops_of_a_step(const std::string& model_dir, const std::string& spec, const NormOptions& norm) {
  torch::manual_seed(0);
  auto lm = load_model(test::fixtures() + "/" + model_dir, Head::SequenceClassification, norm);
  auto& model = *lm.model;
  auto applied = peft::apply_methods(model, nlohmann::json::parse(spec), "test.json");
  Batch b;
  b.input_ids = torch::randint(5, 100, {2, 12}, torch::kLong);
  b.attention_mask = torch::ones({2, 12}, torch::kLong);
  b.attention_mask[1].narrow(0, 8, 4).zero_();  // a padded row
  b.token_type_ids = torch::zeros({2, 12}, torch::kLong);
  auto labels = torch::tensor({0, 1}, torch::kLong);
  auto loss_of = [&] { return torch::cross_entropy_loss(model.forward(b).logits.to(torch::kFloat), labels); };
  model.eval();
  for (auto& m : applied.methods) m->prepare(model, [&](int64_t) { return loss_of(); }, 4);  // fisher_ln's
  model.zero_grad();
  model.train();
  AdamWOptions o;
  o.scalars_on_device = true;
  AdamW opt(trainable_params(model, 0.01), o);
  auto loss_sum = torch::zeros({}, torch::kDouble);
  auto step = [&] {
    auto loss = loss_of();
    loss.backward();
    loss_sum.add_(loss.detach().to(torch::kDouble));
    for (auto& m : applied.methods) m->after_backward(model);
    opt.clip_grad_norm(1.0);
    opt.apply_step();
    opt.zero_grad();
  };
  opt.begin_step(1e-3);
  step();
  opt.begin_step(1e-3);
  return device_syncing_ops(step);
}

}  // namespace

TEST(StepGraph, SyncingOperatorsAreFound) {
  // The detector itself: a value read back, a boolean-mask index (nonzero inside), none.
  auto x = torch::randn({8});
  EXPECT_TRUE(device_syncing_ops([&] { (void)x.sum().item<float>(); }).count("aten::_local_scalar_dense"));
  EXPECT_TRUE(device_syncing_ops([&] { auto y = x.index({x > 0}); }).count("aten::nonzero"));
  EXPECT_TRUE(device_syncing_ops([&] { auto y = torch::masked_select(x, x > 0); }).count("aten::masked_select"));
  EXPECT_TRUE(device_syncing_ops([&] { auto y = (x * 2).softmax(0).index_select(0, torch::tensor({1, 3})); }).empty());
}

TEST(StepGraph, EveryMethodsStepWaitsForNothing) {
  const auto fused = NormOptions().impl("fused"), dyt = NormOptions().type("dyt").impl("fused");
  struct Case {
    std::string model, spec;
    NormOptions norm;
  };
  const std::vector<Case> cases = {
      {"bert_seq_cls", R"({"name": "full"})", {}},
      {"bert_seq_cls", R"({"name": "ln"})", {}},
      {"bert_seq_cls", R"({"name": "ln", "terms": "bias", "layers": "1"})", fused},
      {"bert_seq_cls", R"({"name": "bitfit"})", fused},
      {"bert_seq_cls", R"({"name": "lora"})", {}},
      {"bert_seq_cls", R"({"name": "adapter"})", {}},
      {"bert_seq_cls", R"({"name": "adapter", "type": "parallel"})", {}},
      {"bert_seq_cls", R"({"name": "prefix"})", {}},
      {"bert_seq_cls", R"({"name": "prompt", "length": 4})", {}},
      {"bert_seq_cls", R"({"name": "mam"})", {}},
      {"bert_seq_cls", R"({"name": "prefix+ln"})", fused},
      {"bert_seq_cls", R"({"name": "adapter+ln"})", {}},
      {"bert_seq_cls", R"({"name": "fisher_ln", "samples": 4})", {}},
      {"bert_seq_cls", R"({"name": "dyt"})", dyt},
      {"gpt2_lm", R"({"name": "ln"})", fused},
      {"gpt2_lm", R"({"name": "lora"})", {}},
      {"gpt2_lm", R"({"name": "prefix"})", {}},
      {"gpt2_lm", R"({"name": "prompt", "length": 4})", {}},
      {"gpt2_lm", R"({"name": "dyt"})", dyt},
  };
  for (const auto& c : cases) {
    auto found = syncing_ops_of_a_step(c.model, c.spec, c.norm);
    std::string names;
    for (const auto& n : found) names += n + " ";
    EXPECT_TRUE(found.empty()) << c.model << " " << c.spec << ": " << names;
  }
}

TEST(StepGraph, CpuBuildSaysSo) {
  if (StepGraphs::available()) GTEST_SKIP() << "this build has CUDA graphs";
  try {
    StepGraphs g([](const std::vector<torch::Tensor>&) {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "CUDA graphs: this build of lntune has no CUDA (LibTorch without CUDA)");
  }
  try {
    replayable([] {}, torch::Device(torch::kCPU));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "CUDA graphs: this build of lntune has no CUDA (LibTorch without CUDA)");
  }
}

TEST(StepGraph, CudaReplayEqualsEagerSteps) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: CUDA graphs run on the GPU machine";
  const int steps = 9;
  for (const std::string dir : {"bert_seq_cls", "gpt2_lm"}) {
    SCOPED_TRACE(dir);
    auto eager = train(false, steps, false, 1.0, dir), graphed = train(true, steps, false, 1.0, dir);
    using R = StepGraphs::Ran;
    // 4x8: eager (warm-up), captured (+ replayed), then replays; 4x12: eager (the one graph is taken).
    EXPECT_EQ(graphed.ran, (std::vector<R>{R::Eager, R::Captured, R::Eager, R::Replayed, R::Replayed, R::Eager,
                                            R::Replayed, R::Replayed, R::Eager}));
    for (int i = 0; i < steps; ++i)
      EXPECT_NEAR(graphed.losses[i], eager.losses[i], 1e-6 * std::abs(eager.losses[i])) << i;
    EXPECT_TRUE(torch::allclose(graphed.weights, eager.weights, 1e-6, 1e-7)) << (graphed.weights - eager.weights).abs().max();
    // The steps trained: the weights moved, and not as they would with another lr.
    EXPECT_FALSE(torch::allclose(graphed.weights, train(true, steps, false, 0.5, dir).weights, 1e-6, 1e-7));
  }
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

TEST(StepGraph, CudaStepThatWaitsIsNamed) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: CUDA graphs run on the GPU machine";
  auto w = torch::randn({4}, torch::kCUDA);
  StepGraphs g([&](const std::vector<torch::Tensor>& in) {
    if ((in[0] * w).sum().item<float>() > 1e9) w.add_(1);  // a read-back: the host waits
  });
  try {
    g.run({torch::ones({4}, torch::kCUDA)});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("waits for the device (aten::_local_scalar_dense"), std::string::npos) << e.what();
  }
}

// train.cuda_graphs "auto": a step that waits for the device runs, is reported, and every step
// after it runs eagerly (the run goes on as without graphs).
TEST(StepGraph, CudaStepThatWaitsRunsEagerlyUnderAuto) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: CUDA graphs run on the GPU machine";
  auto w = torch::zeros({4}, torch::kCUDA);
  StepGraphOptions o;
  o.eager_on_failure = true;
  StepGraphs g(
      [&](const std::vector<torch::Tensor>& in) {
        if ((in[0] * w).sum().item<float>() < 1e9) w.add_(in[0]);  // a read-back: the host waits
      },
      o);
  const std::vector<torch::Tensor> in{torch::ones({4}, torch::kCUDA)};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(g.run(in), StepGraphs::Ran::Eager) << i;
  EXPECT_FALSE(g.will_capture(in));
  EXPECT_EQ(g.graphs(), 0);
  EXPECT_NE(g.off_reason().find("waits for the device (aten::_local_scalar_dense"), std::string::npos) << g.off_reason();
  EXPECT_TRUE(torch::equal(w.cpu(), torch::full({4}, 4.0)));  // every step ran once
}

// replayable (bench-norm --timing graph): each replay repeats the captured work, none of the host's.
TEST(StepGraph, CudaReplayableRepeatsTheWork) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: CUDA graphs run on the GPU machine";
  auto y = torch::zeros({8}, torch::kCUDA);
  int host_calls = 0;
  auto replay = replayable(
      [&] {
        ++host_calls;
        y.add_(1);
      },
      torch::Device(torch::kCUDA), /*warmup=*/1);
  EXPECT_EQ(host_calls, 2);  // one warm-up, one capture (which runs nothing)
  for (int i = 0; i < 3; ++i) replay();
  EXPECT_EQ(host_calls, 2);
  EXPECT_TRUE(torch::equal(y.cpu(), torch::full({8}, 4.0)));  // warm-up + 3 replays
}
