// Our AdamW, both implementations, against LibTorch's own torch::optim::AdamW and
// torch::nn::utils::clip_grad_norm_; the fused one against the per-tensor one (same parameters
// after many steps, to fp32 round-off), its flat layout (views, rebinding, errors), and its CUDA
// kernel against the CPU one bit for bit where a GPU is present.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ops/adamw.h"
#include "train/adamw.h"
#include "util/error.h"

using namespace lntune;

namespace {

AdamWOptions with_impl(const std::string& impl) {
  AdamWOptions o;
  o.impl = impl;
  return o;
}

// A small model whose tensors have sizes that are not multiples of 4 (the fused layout's groups
// start 16-byte aligned), with and without weight decay.
struct Net : torch::nn::Module {
  Net() {
    l1 = register_module("l1", torch::nn::Linear(7, 5));
    l2 = register_module("l2", torch::nn::Linear(5, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return l2(torch::tanh(l1(x))); }
  torch::nn::Linear l1{nullptr}, l2{nullptr};
};

std::vector<AdamW::Param> params_of(Net& net) {
  std::vector<AdamW::Param> ps;
  for (auto& p : net.named_parameters())
    ps.push_back({p.key(), p.value(), p.key().find("bias") == std::string::npos ? 0.01 : 0.0, {}, {}});
  return ps;
}

// `steps` steps of lr 1e-2 (else, with `decay_lr`, 1e-2 / step) on random batches (the same for
// every call), clipping at max_norm; the model's parameters afterwards, flattened.
torch::Tensor train(const AdamWOptions& options, int steps, double max_norm, bool set_grads_to_none = false,
                    bool decay_lr = false) {
  torch::manual_seed(0);
  Net net;
  AdamW opt(params_of(net), options);
  EXPECT_EQ(opt.impl(), options.impl);
  for (int i = 0; i < steps; ++i) {
    auto x = torch::randn({8, 7});
    net.forward(x).pow(2).mean().backward();
    if (max_norm > 0) opt.clip_grad_norm(max_norm);
    opt.step(decay_lr ? 1e-2 / (i + 1) : 1e-2);
    if (set_grads_to_none)
      net.zero_grad(/*set_to_none=*/true);  // PyTorch 2's default
    else
      opt.zero_grad();
  }
  std::vector<torch::Tensor> flat;
  for (auto& p : net.parameters()) flat.push_back(p.detach().flatten());
  return torch::cat(flat);
}

torch::Tensor train(const std::string& impl, int steps, double max_norm, bool set_grads_to_none = false) {
  return train(with_impl(impl), steps, max_norm, set_grads_to_none);
}

}  // namespace

TEST(AdamW, MatchesTorchOptimAdamW) {
  for (const std::string impl : {"torch", "fused"}) {
    SCOPED_TRACE(impl);
    torch::manual_seed(0);
    auto w0 = torch::randn({5, 3}), b0 = torch::randn({3});
    auto w1 = w0.clone().requires_grad_(true), b1 = b0.clone().requires_grad_(true);
    auto w2 = w0.clone().requires_grad_(true), b2 = b0.clone().requires_grad_(true);
    AdamW ours({{"w", w1, 0.01, {}, {}}, {"b", b1, 0.0, {}, {}}}, with_impl(impl));
    EXPECT_EQ(ours.impl(), impl);
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
    AdamW copy({{"w", w1.detach().clone(), 0.01, {}, {}}, {"b", b1.detach().clone(), 0.0, {}, {}}}, with_impl(impl));
    copy.load_state(ours.state(), ours.steps());
    EXPECT_TRUE(torch::equal(copy.params()[0].exp_avg_sq, ours.params()[0].exp_avg_sq));
  }
}

TEST(AdamW, FusedMatchesPerTensorOverManySteps) {
  // 200 steps with clipping active: the fused kernel and flat buffers against torch's per-tensor
  // ops. They differ only where ATen's vector loops contract a multiply-add (1 ulp) and in the
  // clipping norm's summation order.
  auto torch_impl = train("torch", 200, 0.5), fused = train("fused", 200, 0.5);
  EXPECT_TRUE(torch::allclose(fused, torch_impl, 1e-5, 1e-6)) << (fused - torch_impl).abs().max();
  EXPECT_FALSE(torch::equal(fused, train("fused", 199, 0.5)));  // the steps did move the weights
  // A module's zero_grad sets the gradients to none; the next backward makes new ones, which the
  // fused optimizer copies back into its buffer: the same training.
  EXPECT_TRUE(torch::equal(train("fused", 50, 0.5, true), train("fused", 50, 0.5)));
}

TEST(AdamW, CpuKernelIsTheElementFormula) {
  // The kernel against the formula in double: every element within fp32 round-off of it, at a
  // size that covers the vector loop and its tail.
  torch::manual_seed(1);
  const int64_t n = 1003;
  auto p = torch::randn({n}), g = torch::randn({n}), m = torch::randn({n}) * 0.1, v = torch::rand({n}) * 0.01;
  const double lr = 3e-3, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const int64_t t = 7;
  auto pd = p.to(torch::kDouble), gd = g.to(torch::kDouble), md = m.to(torch::kDouble), vd = v.to(torch::kDouble);
  pd = pd * (1 - lr * wd);
  md = md * b1 + (1 - b1) * gd;
  vd = vd * b2 + (1 - b2) * gd * gd;
  auto want = pd - lr / (1 - std::pow(b1, t)) * md / (vd.sqrt() / std::sqrt(1 - std::pow(b2, t)) + eps);
  ops::fused_adamw_(p, g, m, v, kernels::adamw_scalars(lr, wd, b1, b2, eps, t));
  EXPECT_TRUE(torch::allclose(p.to(torch::kDouble), want, 1e-6, 1e-7)) << (p.to(torch::kDouble) - want).abs().max();
  EXPECT_TRUE(torch::allclose(m.to(torch::kDouble), md, 1e-6, 1e-8));
  EXPECT_TRUE(torch::allclose(v.to(torch::kDouble), vd, 1e-6, 1e-9));
}

TEST(AdamW, ClipGradNormMatchesLibTorch) {
  for (const std::string impl : {"torch", "fused"}) {
    SCOPED_TRACE(impl);
    torch::manual_seed(2);
    Net a, b;
    torch::NoGradGuard g;
    for (size_t i = 0; i < a.parameters().size(); ++i) b.parameters()[i].copy_(a.parameters()[i]);
    AdamW opt(params_of(a), with_impl(impl));
    for (size_t i = 0; i < a.parameters().size(); ++i) {
      auto grad = torch::randn(a.parameters()[i].sizes());
      auto& ga = a.parameters()[i].mutable_grad();
      if (ga.defined())
        ga.copy_(grad);  // fused: in place, into the buffer
      else
        ga = grad.clone();
      b.parameters()[i].mutable_grad() = grad.clone();
    }
    auto ours = opt.clip_grad_norm(0.3);
    double theirs = torch::nn::utils::clip_grad_norm_(b.parameters(), 0.3);
    EXPECT_NEAR(ours.item<double>(), theirs, 1e-6 * theirs);
    for (size_t i = 0; i < a.parameters().size(); ++i)
      EXPECT_TRUE(torch::allclose(a.parameters()[i].grad(), b.parameters()[i].grad(), 1e-6, 1e-8));
    // Below the limit nothing changes.
    auto before = a.parameters()[0].grad().clone();
    opt.clip_grad_norm(1e6);
    EXPECT_TRUE(torch::equal(a.parameters()[0].grad(), before));
  }
}

TEST(AdamW, FusedLayoutIsViewsOfOneBuffer) {
  torch::manual_seed(3);
  Net net;
  auto w_before = net.l1->weight.detach().clone();
  AdamW opt(params_of(net), with_impl("fused"));
  // The module's own tensors now live in the buffer: values kept, gradients defined (zeros).
  EXPECT_TRUE(torch::equal(net.l1->weight, w_before));
  for (auto& p : net.parameters()) {
    // Each 64-byte aligned, as a tensor of its own (sizes 35, 5, 15, 3 leave gaps between them).
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p.data_ptr()) % 64, 0u);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().abs().sum().item<float>(), 0.f);
  }
  auto buffers = opt.gradient_buffers();
  ASSERT_EQ(buffers.size(), 1u);
  // One backward fills the one buffer: its norm is the norm of every gradient together.
  net.forward(torch::randn({4, 7})).sum().backward();
  double sq = 0;
  for (auto& p : net.parameters()) sq += p.grad().pow(2).sum().item<double>();
  EXPECT_NEAR(buffers[0].norm().item<double>(), std::sqrt(sq), 1e-5);
  // Checkpoint state keeps the per-tensor names and shapes.
  auto st = opt.state();
  ASSERT_EQ(st.size(), 2 * net.parameters().size());
  EXPECT_EQ(st[0].first, "l1.weight.exp_avg");
  EXPECT_EQ(st[0].second.sizes(), net.l1->weight.sizes());
}

TEST(AdamW, FusedResumeIsBitExact) {
  // 10 steps straight, against 5 steps, the state saved and loaded into a fresh optimizer over a
  // fresh copy of the weights, and 5 more.
  auto batches = [] {
    torch::manual_seed(4);
    std::vector<torch::Tensor> xs;
    for (int i = 0; i < 10; ++i) xs.push_back(torch::randn({8, 7}));
    return xs;
  }();
  auto run = [&](Net& net, AdamW& opt, int from, int to) {
    for (int i = from; i < to; ++i) {
      net.forward(batches[static_cast<size_t>(i)]).pow(2).mean().backward();
      opt.clip_grad_norm(0.5);
      opt.step(1e-2);
      opt.zero_grad();
    }
  };
  torch::manual_seed(5);
  Net straight;
  Net half;
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < straight.parameters().size(); ++i) half.parameters()[i].copy_(straight.parameters()[i]);
  }
  AdamW o1(params_of(straight), with_impl("fused"));
  run(straight, o1, 0, 10);
  AdamW o2(params_of(half), with_impl("fused"));
  run(half, o2, 0, 5);
  std::vector<std::pair<std::string, torch::Tensor>> saved;
  for (auto& [k, v] : o2.state()) saved.emplace_back(k, v.clone());
  Net resumed;
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < half.parameters().size(); ++i) resumed.parameters()[i].copy_(half.parameters()[i]);
  }
  AdamW o3(params_of(resumed), with_impl("fused"));
  o3.load_state(saved, o2.steps());
  run(resumed, o3, 5, 10);
  for (size_t i = 0; i < straight.parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(straight.parameters()[i], resumed.parameters()[i])) << i;
}

TEST(AdamW, FusedErrorsAndFallback) {
  torch::manual_seed(6);
  Net net;
  AdamW opt(params_of(net), with_impl("fused"));
  // A parameter whose storage moves after the optimizer was built would silently stop training.
  {
    torch::NoGradGuard g;
    net.l2->bias.set_data(torch::zeros({3}));
  }
  try {
    opt.step(1e-2);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("AdamW: trainable tensor l2.bias was replaced"), std::string::npos) << e.what();
  }
  // Not all fp32 (or a tensor twice): the per-tensor path.
  auto d = torch::zeros({3}, torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
  auto f = torch::zeros({3}, torch::TensorOptions().requires_grad(true));
  EXPECT_EQ(AdamW({{"d", d, 0.0, {}, {}}, {"f", f, 0.0, {}, {}}}).impl(), "torch");
  EXPECT_EQ(AdamW({{"f", f, 0.0, {}, {}}, {"f again", f, 0.0, {}, {}}}).impl(), "torch");
  try {
    AdamW bad({{"f", f, 0.0, {}, {}}}, with_impl("apex"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "AdamW: impl 'apex' is not one of fused, torch");
  }
}

TEST(AdamW, ScalarsOnDeviceEqualScalarsByValue) {
  // What CUDA graphs replay (scalars read from memory the host rewrites each step) against the
  // launch with scalars as arguments: the same bits, with lr and the bias corrections changing
  // every step (a stale copy would show).
  AdamWOptions on_device = with_impl("fused");
  on_device.scalars_on_device = true;
  const auto by_value = train(with_impl("fused"), 30, 1.0, false, /*decay_lr=*/true);
  EXPECT_TRUE(torch::equal(train(on_device, 30, 1.0, false, true), by_value));
  EXPECT_FALSE(torch::equal(train(with_impl("fused"), 30, 1.0, false, false), by_value));  // the lr mattered

  // begin_step/apply_step are step()'s halves; an apply_step needs its begin_step.
  Net net;
  AdamW opt(params_of(net), on_device);
  net.forward(torch::randn({2, 7})).sum().backward();
  EXPECT_THROW(opt.apply_step(), Error);
  opt.begin_step(1e-2);
  opt.apply_step();
  EXPECT_EQ(opt.steps(), 1);
  EXPECT_THROW(opt.apply_step(), Error);
  // Only the fused implementation reads its scalars from memory.
  auto d = torch::zeros({3}, torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
  try {
    AdamW bad({{"d", d, 0.0, {}, {}}}, on_device);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("need the fused implementation"), std::string::npos) << e.what();
  }
}

TEST(AdamW, CudaKernelEqualsCpuKernel) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the CUDA AdamW kernel runs on the GPU machine";
  // Both round as kernels/adamw/adamw_math.h spells it (no contracted multiply-adds): the same
  // bits. Sizes: the vector path with a tail, a misaligned start (scalar path), one element.
  for (int64_t n : {int64_t{1}, int64_t{4099}, int64_t{1 << 20}}) {
    for (int64_t offset : {int64_t{0}, int64_t{1}}) {
      SCOPED_TRACE(std::to_string(n) + " elements at offset " + std::to_string(offset));
      torch::manual_seed(7);
      std::vector<torch::Tensor> cpu;
      for (int i = 0; i < 4; ++i) cpu.push_back(i == 3 ? torch::rand({n + offset}) : torch::randn({n + offset}));
      std::vector<torch::Tensor> gpu;
      for (auto& t : cpu) gpu.push_back(t.to(torch::kCUDA));
      auto s = kernels::adamw_scalars(1e-3, 0.01, 0.9, 0.999, 1e-8, 3);
      auto part = [&](std::vector<torch::Tensor>& v, int i) { return v[static_cast<size_t>(i)].narrow(0, offset, n); };
      ops::fused_adamw_(part(cpu, 0), part(cpu, 1), part(cpu, 2), part(cpu, 3), s);
      ops::fused_adamw_(part(gpu, 0), part(gpu, 1), part(gpu, 2), part(gpu, 3), s);
      for (int i : {0, 2, 3}) EXPECT_TRUE(torch::equal(gpu[static_cast<size_t>(i)].cpu(), cpu[static_cast<size_t>(i)])) << i;
      // The launch that reads its scalars from device memory (what CUDA graphs replay).
      std::vector<torch::Tensor> again;
      for (auto& t : gpu) again.push_back(t.clone());
      auto s_tensor = torch::from_blob(&s, {kernels::kAdamWScalarFloats}, torch::kFloat).to(torch::kCUDA);
      ops::fused_adamw_(part(gpu, 0), part(gpu, 1), part(gpu, 2), part(gpu, 3), s);
      ops::fused_adamw_(part(again, 0), part(again, 1), part(again, 2), part(again, 3), s_tensor);
      for (int i : {0, 2, 3}) EXPECT_TRUE(torch::equal(again[static_cast<size_t>(i)], gpu[static_cast<size_t>(i)])) << i;
    }
  }
}
