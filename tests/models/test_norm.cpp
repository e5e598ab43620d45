// The Norm factory: LayerNorm against torch's own op, DyT against its formula, bad names rejected.
#include <gtest/gtest.h>

#include "models/norm.h"

#include "io/checkpoint.h"
#include "io/model_folder.h"
#include "test_paths.h"
#include "util/error.h"

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
  EXPECT_THROW(make_norm(NormOptions(8).dyt_init("warm")), c10::Error);
  // "auto" with no checkpoint to ask (a fresh model) is LayerNorm.
  auto fresh = make_norm(NormOptions(8));
  EXPECT_EQ(fresh->options.type(), "layernorm");
  EXPECT_FALSE(fresh->alpha.defined());
  EXPECT_THROW(make_norm(NormOptions(0)), c10::Error);
}

namespace {
// Five SGD steps of full fine-tuning of the seeded BERT fixture (dropout off) with the given norm;
// returns the losses.
std::vector<double> train_losses(const NormOptions& norm) {
  auto lm = load_model(test::fixtures() + "/bert_seq_cls", std::nullopt, norm);
  auto& m = *lm.model;
  m.eval();
  torch::manual_seed(0);
  Batch b;
  b.input_ids = torch::randint(0, m.config.vocab_size, {4, 16});
  b.attention_mask = torch::ones({4, 16}, torch::kLong);
  torch::optim::SGD opt(m.parameters(), 0.05);
  std::vector<double> losses;
  torch::Tensor labels;
  for (int step = 0; step < 5; ++step) {
    auto logits = m.forward(b).logits;
    if (!labels.defined()) labels = torch::randint(0, logits.size(-1), {4});
    auto loss = torch::cross_entropy_loss(logits, labels);
    losses.push_back(loss.item<double>());
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  return losses;
}
}  // namespace

// The swap changes nothing else: a training run with impl "fused" follows impl "torch" to fp32
// round-off, for LayerNorm and for DyT.
TEST(Norm, FusedImplTrainsLikeTorchImpl) {
  for (const char* type : {"layernorm", "dyt"}) {
    auto ref = train_losses(NormOptions().type(type).impl("torch").dyt_alpha_init(0.8));
    auto got = train_losses(NormOptions().type(type).impl("fused").dyt_alpha_init(0.8));
    ASSERT_EQ(ref.size(), got.size());
    EXPECT_GT(std::abs(ref.front() - ref.back()), 1e-3) << type << ": the run must move";
    for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-5 * std::abs(ref[i])) << type << " step " << i;
  }
}

// Loading a LayerNorm checkpoint into a DyT model copies gamma/beta and starts alpha at its init.
TEST(Norm, LayerNormCheckpointConvertsToDyt) {
  auto ln = load_model(test::fixtures() + "/bert_seq_cls");
  auto dyt = load_model(test::fixtures() + "/bert_seq_cls", std::nullopt, NormOptions().type("dyt").dyt_alpha_init(0.3));
  EXPECT_TRUE(ln.report.dyt_alpha.empty());
  auto a = find_norms(*ln.model), b = find_norms(*dyt.model);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(dyt.report.dyt_alpha.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i].module->weight, b[i].module->weight)) << b[i].name;
    EXPECT_TRUE(torch::equal(a[i].module->bias, b[i].module->bias)) << b[i].name;
    EXPECT_FLOAT_EQ(b[i].module->alpha.item<float>(), 0.3f) << b[i].name;
  }
  bool said = false;
  for (const auto& l : dyt.report.lines()) said |= l.find("converted to DyT") != std::string::npos;
  EXPECT_TRUE(said);
}

// A folder written from a DyT model (as `lntune pretrain` with model.norm.type "dyt" writes it)
// loads back as DyT by default, its alphas and outputs intact; asking for LayerNorm is an error
// naming the alpha key, never a silent LayerNorm model with the alphas dropped.
TEST(Norm, DytCheckpointLoadsAsDytByDefault) {
  auto src = load_model(test::fixtures() + "/bert_seq_cls", std::nullopt, NormOptions().type("dyt"));
  auto norms = find_norms(*src.model);
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < norms.size(); ++i) norms[i].module->alpha.fill_(0.1 * static_cast<double>(i + 1));
  }
  const std::string dir = ::testing::TempDir() + "/norm_dyt_folder";
  write_model_folder(dir, *src.model, "");
  EXPECT_EQ(open_checkpoint(test::fixtures() + "/bert_seq_cls").norm_type(), "layernorm");
  EXPECT_EQ(open_checkpoint(dir).norm_type(), "dyt");

  auto back = load_model(dir);  // norm type "auto"
  EXPECT_TRUE(back.report.unexpected.empty());
  EXPECT_TRUE(back.report.dyt_alpha.empty());  // loaded, not initialised
  auto got = find_norms(*back.model);
  ASSERT_EQ(got.size(), norms.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].module->options.type(), "dyt") << got[i].name;
    EXPECT_TRUE(torch::equal(got[i].module->alpha, norms[i].module->alpha)) << got[i].name;
  }
  src.model->eval();
  back.model->eval();
  Batch b;
  torch::manual_seed(1);
  b.input_ids = torch::randint(0, src.model->config.vocab_size, {2, 12});
  b.attention_mask = torch::ones({2, 12}, torch::kLong);
  EXPECT_TRUE(torch::equal(src.model->forward(b).logits, back.model->forward(b).logits));
  // An explicit "dyt" is the same model.
  auto explicit_dyt = load_model(dir, std::nullopt, NormOptions().type("dyt"));
  explicit_dyt.model->eval();
  EXPECT_TRUE(torch::equal(explicit_dyt.model->forward(b).logits, back.model->forward(b).logits));

  std::string msg;
  try {
    load_model(dir, std::nullopt, NormOptions().type("layernorm"));
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("holds DyT norms (bert.embeddings.LayerNorm.alpha)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}
