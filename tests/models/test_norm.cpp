// The Norm factory: LayerNorm against torch's own op, DyT against its formula, bad names rejected.
#include <gtest/gtest.h>

#include "models/norm.h"

using namespace lntune;

TEST(Norm, LayerNormMatchesTorchNnLayerNormForwardAndBackward) {
  torch::manual_seed(0);
  auto n = make_norm(NormOptions(48).eps(1e-12));
  auto ref = torch::nn::LayerNorm(torch::nn::LayerNormOptions({48}).eps(1e-12));
  {
    torch::NoGradGuard g;
    n->weight.uniform_(0.5, 1.5);
    n->bias.uniform_(-1, 1);
    ref->weight.copy_(n->weight);
    ref->bias.copy_(n->bias);
  }
  auto x = torch::randn({4, 9, 48}, torch::requires_grad());
  auto x2 = x.detach().clone().requires_grad_(true);
  auto y = n(x), y2 = ref(x2);
  EXPECT_TRUE(torch::allclose(y, y2, 1e-6, 1e-6));
  auto gy = torch::randn_like(y);
  y.backward(gy);
  y2.backward(gy);
  EXPECT_TRUE(torch::allclose(x.grad(), x2.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(n->weight.grad(), ref->weight.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(n->bias.grad(), ref->bias.grad(), 1e-5, 1e-5));
  // Names follow HF LayerNorm keys.
  auto names = n->named_parameters().keys();
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias"}));
}

TEST(Norm, DytIsGammaTanhAlphaXPlusBeta) {
  auto n = make_norm(NormOptions(8).type("dyt").dyt_alpha_init(0.7));
  {
    torch::NoGradGuard g;
    n->weight.uniform_(0.5, 1.5);
    n->bias.uniform_(-1, 1);
  }
  auto x = torch::randn({3, 8});
  auto expect = n->weight * torch::tanh(0.7 * x) + n->bias;
  EXPECT_TRUE(torch::allclose(n(x), expect));
  EXPECT_EQ(n->named_parameters().keys(), (std::vector<std::string>{"weight", "bias", "alpha"}));
}

TEST(Norm, UnknownNamesAreRejectedNamingTheValue) {
  try {
    make_norm(NormOptions(8).type("rmsnorm"));
    FAIL();
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'rmsnorm'"), std::string::npos);
  }
  EXPECT_THROW(make_norm(NormOptions(8).impl("cudnn")), c10::Error);
  EXPECT_THROW(make_norm(NormOptions(0)), c10::Error);
}
