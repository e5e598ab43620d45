// count_ops against counts known by construction: element-wise ops, views, a copy a view forces,
// a matmul with bias, our own kernels, and AdamW's update per tensor vs fused; and what the fused
// AdamW saves in a whole training step of the fixture BERT.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "io/checkpoint.h"
#include "ops/layernorm.h"
#include "peft/method.h"
#include "test_paths.h"
#include "train/run_state.h"
#include "train/adamw.h"
#include "train/op_count.h"

using namespace lntune;

TEST(OpCount, CountsOperatorsThatDoWork) {
  torch::NoGradGuard g;
  auto a = torch::randn({4, 6}), b = torch::randn({4, 6}), w = torch::randn({5, 6}), bias = torch::randn({5});
  EXPECT_EQ(count_ops([&] { auto c = a + b; }), 1);
  EXPECT_EQ(count_ops([&] { auto c = (a + b).relu_().mul(2.0); }), 3);
  // Views, allocations and no-op conversions launch nothing.
  EXPECT_EQ(count_ops([&] { auto v = a.view({2, 12}).t().unsqueeze(0).to(torch::kFloat); }), 0);
  EXPECT_EQ(count_ops([&] { auto e = torch::empty({3}); }), 0);
  // contiguous() of a transposed tensor copies once; of a contiguous one not at all.
  EXPECT_EQ(count_ops([&] { auto c = a.t().contiguous(); }), 1);
  EXPECT_EQ(count_ops([&] { auto c = a.contiguous(); }), 0);
  // linear = addmm (the composite itself is not counted).
  EXPECT_EQ(count_ops([&] { auto y = torch::nn::functional::linear(a, w, bias); }), 1);
  // Our kernel is one operator, its output allocation none.
  auto gamma = torch::ones({6}), beta = torch::zeros({6});
  EXPECT_EQ(count_ops([&] { auto y = ops::fused_layer_norm(a, gamma, beta, 1e-5); }), 1);
}

TEST(OpCount, FusedAdamWIsOneOperatorPerWeightDecayGroup) {
  auto make = [](const std::string& impl) {
    std::vector<AdamW::Param> ps;
    for (int i = 0; i < 10; ++i) {
      auto t = torch::randn({3, 1 + i}).requires_grad_(true);
      t.mutable_grad() = torch::randn({3, 1 + i});
      ps.push_back({"p" + std::to_string(i), t, i % 2 ? 0.0 : 0.01, {}, {}});
    }
    AdamWOptions o;
    o.impl = impl;
    return std::make_unique<AdamW>(std::move(ps), o);
  };
  auto per_tensor = make("torch"), fused = make("fused");
  // Per tensor: mul_ (decay, half of them), mul_, add_, mul_, addcmul_, sqrt, div, add_, addcdiv_.
  EXPECT_EQ(count_ops([&] { per_tensor->step(1e-3); }), 10 * 8 + 5);
  EXPECT_EQ(count_ops([&] { fused->step(1e-3); }), 2);  // two weight decays: two launches
  // Clipping: a norm (per tensor: ten, stacked, and their norm), the scale computed on the device
  // as LibTorch does it (add, fill and divide for max_norm / x, clamp), a multiply per buffer.
  EXPECT_EQ(count_ops([&] { fused->clip_grad_norm(1.0); }), 1 + 4 + 1);
  EXPECT_EQ(count_ops([&] { per_tensor->clip_grad_norm(1.0); }), 10 + 2 + 4 + 10);
  // zero_grad sets the fused gradients to none (no kernel; per tensor: a zero_ each); the next
  // backward's gradients are gathered by one cat per weight-decay group.
  EXPECT_EQ(count_ops([&] { fused->zero_grad(); }), 0);
  EXPECT_EQ(count_ops([&] { per_tensor->zero_grad(); }), 10);
  for (auto& p : fused->params()) {
    EXPECT_FALSE(p.value.grad().defined());
    p.value.mutable_grad() = torch::ones_like(p.value);  // what a backward leaves
  }
  EXPECT_EQ(count_ops([&] { fused->gradient_buffers(); }), 2);
  EXPECT_EQ(fused->gradient_buffers()[0].sum().item<float>(), 3 * (1 + 10) * 10 / 2);
}

TEST(OpCount, FusedAdamWHalvesAnLnTuningStep) {
  // One LN-Tuning step (forward, backward, clipping, AdamW, zeroing) of the fixture BERT (2
  // layers): per tensor the update is ~11 operators per trainable tensor and the backward adds one
  // per tensor into the defined gradients; fused, the update is 10 operators in all.
  auto step_ops = [](const std::string& impl) {
    auto lm = load_model(test::fixtures() + "/bert_seq_cls", std::nullopt, NormOptions());
    peft::apply_methods(*lm.model, nlohmann::json{{"name", "ln"}}, "test.json");
    AdamWOptions o;
    o.impl = impl;
    AdamW opt(trainable_params(*lm.model, 0.01), o);
    Batch b;
    b.input_ids = torch::randint(5, 50, {2, 8}, torch::kLong);
    b.attention_mask = torch::ones({2, 8}, torch::kLong);
    auto labels = torch::zeros({2}, torch::kLong);
    auto step = [&] {
      torch::cross_entropy_loss(lm.model->forward(b).logits, labels).backward();
      opt.clip_grad_norm(1.0);
      opt.step(1e-3);
      opt.zero_grad();
    };
    step();  // the first step makes the gradients; count the second, as every later step runs
    return std::make_pair(count_ops(step), static_cast<int64_t>(opt.params().size()));
  };
  auto [per_tensor, tensors] = step_ops("torch");
  auto [fused, same] = step_ops("fused");
  EXPECT_EQ(tensors, same);
  EXPECT_GE(tensors, 10);  // 5 LayerNorms x 2, and the head
  // 9 for the update, a norm, a multiply and a zero_ per tensor, an add_ per gradient in the backward.
  EXPECT_GE(per_tensor - fused, 11 * tensors) << per_tensor << " vs " << fused;
  EXPECT_LT(2 * fused, per_tensor) << per_tensor << " vs " << fused;  // 132 vs 273 on LibTorch 1.13
}
