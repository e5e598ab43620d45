// models/projection_group.h: frozen projections run as one product. The plain reference beside
// each check is the members' own forward, one product each (what the group replaces): outputs and
// gradients equal to fp32 round-off, storage shared without a copy, parameters unchanged, changes
// to a member seen, and the operators a layer's forward and backward dispatch.
#include "models/projection_group.h"

#include <gtest/gtest.h>

#include "io/state_dict.h"
#include "models/extensions.h"
#include "train/op_count.h"

using namespace lntune;

namespace {

constexpr int64_t kIn = 24, kHeads = 2, kHeadDim = 4;

// A delta that adds x @ m^T, m [out, in] (LoRA with its product written out).
class MatrixDelta : public ProjectionDelta {
 public:
  explicit MatrixDelta(torch::Tensor m) : m_(std::move(m)) {}
  std::string kind() const override { return "matrix"; }
  torch::Tensor add_to(const torch::Tensor& y, const torch::Tensor& x) override { return y + torch::matmul(x, m_.t()); }
  void fold(torch::Tensor weight, torch::Tensor, bool undo) override { weight.add_(m_, undo ? -1 : 1); }

 private:
  torch::Tensor m_;
};

struct Group {
  std::vector<Projection> members;
  std::vector<torch::Tensor> weights_before;
};

// Three projections kIn -> 8 (query, key, value), seeded, weights frozen unless `train_weights`,
// biases frozen unless `train_biases`.
Group make(bool train_weights, bool train_biases) {
  torch::manual_seed(11);
  Group g;
  for (int i = 0; i < 3; ++i) {
    Projection p(kIn, kHeads * kHeadDim);
    torch::NoGradGuard no_grad;
    p->bias.normal_();
    p->weight.set_requires_grad(train_weights);
    p->bias.set_requires_grad(train_biases);
    g.weights_before.push_back(p->weight.detach().clone());
    g.members.push_back(p);
  }
  return g;
}

torch::Tensor input() {
  torch::manual_seed(5);
  return torch::randn({2, 5, kIn}, torch::requires_grad());
}

// The reference: each member's own forward.
std::vector<torch::Tensor> separate(Group& g, const torch::Tensor& x) {
  std::vector<torch::Tensor> out;
  for (auto& m : g.members) out.push_back(m->forward(x));
  return out;
}

torch::Tensor loss_of(const std::vector<torch::Tensor>& outs) {
  torch::Tensor l = torch::zeros({});
  for (size_t i = 0; i < outs.size(); ++i) l = l + (outs[i] * outs[i]).sum() * static_cast<double>(i + 1);
  return l;
}

void expect_allclose(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << what << ": max diff " << (a - b).abs().max().item<double>();
}

}  // namespace

TEST(ProjectionGroup, FrozenWeightsAreOneProductEqualToTheMembers) {
  auto g = make(false, false);
  ProjectionGroup group(g.members);
  auto x = input();
  auto packed = group.forward(x);
  EXPECT_TRUE(group.packed());
  auto reference = separate(g, x);
  for (int i = 0; i < 3; ++i) expect_allclose(packed[i], reference[i], "output " + std::to_string(i));

  // Input gradients equal the separate products' (the backward of one product against three).
  auto dx_packed = torch::autograd::grad({loss_of(packed)}, {x})[0];
  auto dx_reference = torch::autograd::grad({loss_of(reference)}, {x})[0];
  expect_allclose(dx_packed, dx_reference, "dx");

  // Nothing stored twice: the members' weights are consecutive rows of one tensor, their values
  // and names unchanged, and what a checkpoint writer reads from them is their own rows.
  for (int i = 0; i < 3; ++i) {
    const auto& w = g.members[i]->weight;
    EXPECT_TRUE(torch::equal(w, g.weights_before[i])) << i;
    EXPECT_EQ(g.members[i]->named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
    if (i > 0) EXPECT_EQ(w.data_ptr<float>(), g.members[i - 1]->weight.data_ptr<float>() + w.numel()) << i;
  }
  const std::string path = ::testing::TempDir() + "/packed.safetensors";
  write_safetensors(path, {{"key.weight", g.members[1]->weight}}, {});
  EXPECT_TRUE(torch::equal(read_state_dict(path).tensors.at(0).second, g.weights_before[1]));
}

TEST(ProjectionGroup, ShapedOutputsAreTheMembersInHeads) {
  for (bool with_delta : {false, true}) {
    auto g = make(false, false);
    if (with_delta) {
      torch::manual_seed(2);
      g.members[2]->set_delta(std::make_shared<MatrixDelta>(torch::randn({kHeads * kHeadDim, kIn})));
    }
    ProjectionGroup group(g.members);
    auto x = input();
    auto shaped = group.forward(x, {kHeads, kHeadDim});
    auto reference = separate(g, x);
    for (int i = 0; i < 3; ++i)
      expect_allclose(shaped[i], reference[i].view({2, 5, kHeads, kHeadDim}), "member " + std::to_string(i));
    auto dx = torch::autograd::grad({loss_of(shaped)}, {x})[0];
    expect_allclose(dx, torch::autograd::grad({loss_of(reference)}, {x})[0], "dx");
  }
}

TEST(ProjectionGroup, DeltasAreAddedToTheirMembersSlice) {
  auto g = make(false, false);
  torch::manual_seed(2);
  auto m = torch::randn({kHeads * kHeadDim, kIn});
  g.members[0]->set_delta(std::make_shared<MatrixDelta>(m));
  ProjectionGroup group(g.members);
  auto x = input().detach();
  auto out = group.forward(x);
  expect_allclose(out[0], torch::linear(x, g.weights_before[0] + m, g.members[0]->bias), "query with its delta");
  expect_allclose(out[1], separate(g, x)[1], "key without one");

  // Merged (the delta moved into the weight, in place): the packed product sees the new rows.
  g.members[0]->merge();
  EXPECT_TRUE(group.packed());
  expect_allclose(group.forward(x)[0], out[0], "merged");
  g.members[0]->unmerge();
  expect_allclose(group.forward(x)[0], out[0], "unmerged");
}

TEST(ProjectionGroup, ChangesToAMemberAreSeen) {
  auto g = make(false, false);
  ProjectionGroup group(g.members);
  auto x = input().detach();
  group.forward(x);
  {  // in place (a load by copy_): the shared rows change
    torch::NoGradGuard no_grad;
    g.members[1]->weight.mul_(2);
  }
  expect_allclose(group.forward(x)[1], separate(g, x)[1], "after an in-place change");
  EXPECT_TRUE(group.packed());
  // Replaced (a dtype or device conversion, frozen_bf16, sets new data): packed again.
  g.members[1]->weight.set_data(torch::ones({kHeads * kHeadDim, kIn}));
  EXPECT_FALSE(group.packed());
  expect_allclose(group.forward(x)[1], separate(g, x)[1], "after a replacement");
  EXPECT_TRUE(group.packed());
  // A conversion of every member (model->to(dtype)): packed again, in the new dtype.
  for (auto& m : g.members) {
    m->weight.set_data(m->weight.to(torch::kDouble));
    m->bias.set_data(m->bias.to(torch::kDouble));
  }
  auto xd = x.to(torch::kDouble);
  expect_allclose(group.forward(xd)[2], separate(g, xd)[2], "after a conversion");
  EXPECT_TRUE(group.packed());
}

TEST(ProjectionGroup, TrainableWeightsRunSeparatelyAndTrainableBiasesGetTheirGradients) {
  {  // full fine-tuning: each weight gets its own gradient, as from its own product
    auto g = make(true, true);
    ProjectionGroup group(g.members);
    auto x = input().detach();
    auto out = group.forward(x);
    EXPECT_FALSE(group.packed());
    loss_of(out).backward();
    for (auto& m : g.members)
      EXPECT_TRUE(m->weight.grad().defined() && m->weight.grad().abs().sum().item<double>() > 0);
  }
  // BitFit: frozen weights packed; the biases' gradients through the concatenation equal the
  // separate products'.
  auto g = make(false, true), r = make(false, true);
  ProjectionGroup group(g.members);
  auto x = input().detach();
  loss_of(group.forward(x)).backward();
  EXPECT_TRUE(group.packed());
  loss_of(separate(r, x)).backward();
  for (int i = 0; i < 3; ++i) expect_allclose(g.members[i]->bias.grad(), r.members[i]->bias.grad(), "dbias");
}

// What the group saves per attention layer, counted as test_op_count does: forward, 3 products
// become 1; backward, 3 input-gradient products, the 2 additions summing them and the 3 copies
// laying out head-split gradients become 1 product and 1 stack.
TEST(ProjectionGroup, OneLayersOperatorsForwardAndBackward) {
  auto count = [](bool packed_path) {
    auto g = make(false, false);
    ProjectionGroup group(g.members);
    auto x = input();
    group.forward(x);  // the first pass packs
    return count_ops([&] {
      std::vector<torch::Tensor> heads;
      if (packed_path) {
        heads = group.forward(x, {kHeads, kHeadDim});
      } else {
        for (auto& y : separate(g, x)) heads.push_back(y.view({2, 5, kHeads, kHeadDim}));
      }
      // As attention reads them: heads first, one product.
      auto q = heads[0].transpose(1, 2), k = heads[1].transpose(1, 2), v = heads[2].transpose(1, 2);
      auto ctx = torch::matmul(torch::matmul(q, k.transpose(-1, -2)), v);
      torch::autograd::grad({ctx.sum()}, {x});
    });
  };
  const int64_t separate_ops = count(false), packed_ops = count(true);
  EXPECT_EQ(separate_ops - packed_ops, (3 - 1) + (3 + 2 + 3) - (1 + 1)) << separate_ops << " vs " << packed_ops;
}
