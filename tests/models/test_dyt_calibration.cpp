// Calibrated DyT init: each fresh DyT norm fitted to the LayerNorm it replaces. The plain
// reference (the formula of models/dyt_calibration.h over torch's own var/mean and layer_norm)
// sits beside each check.
#include <gtest/gtest.h>

#include "io/checkpoint.h"
#include "models/dyt_calibration.h"
#include "models/presets.h"
#include "test_paths.h"
#include "util/error.h"

using namespace lntune;

namespace {

struct OneNorm : torch::nn::Module {
  explicit OneNorm(NormOptions o) { norm = register_module("norm", make_norm(o)); }
  Norm norm{nullptr};
};

double rel_err(const torch::Tensor& got, const torch::Tensor& want) {
  return ((got - want).norm() / want.norm()).item<double>();
}

}  // namespace

TEST(DytCalibration, OneNormFollowsTheFormula) {
  torch::manual_seed(0);
  const int64_t H = 64;
  const double c = 0.5, eps = 1e-12;
  auto holder = std::make_shared<OneNorm>(NormOptions(H).type("dyt").eps(eps));
  auto& m = *holder;
  {
    torch::NoGradGuard g;
    m.norm->weight.uniform_(0.5, 1.5);
    m.norm->bias.uniform_(-0.5, 0.5);
  }
  auto w0 = m.norm->weight.detach().clone(), b0 = m.norm->bias.detach().clone();
  // Two batches at BERT's embedding scale (std ~0.03), with a row offset.
  auto x1 = 0.03 * torch::randn({40, H}) + 0.01, x2 = 0.03 * torch::randn({2, 12, H}) + 0.01;
  auto calib = calibrate_dyt(m, c, [&] {
    // While calibrating, the norm is the LayerNorm it replaces.
    for (const auto& x : {x1, x2})
      EXPECT_LT(rel_err(m.norm(x), torch::layer_norm(x, {H}, w0, b0, eps)), 1e-6);
  });
  // The plain reference: alpha from the mean row std, then per feature the least-squares line
  // from u = tanh(alpha x) to t = (x - row mean) / row std.
  auto rows = torch::cat({x1, x2.reshape({-1, H})}).to(torch::kDouble);
  auto vm = torch::var_mean(rows, {-1}, false);
  auto sd = (std::get<0>(vm) + eps).sqrt();
  const double alpha = c / sd.mean().item<double>();
  auto t = (rows - std::get<1>(vm).unsqueeze(1)) / sd.unsqueeze(1), u = torch::tanh(alpha * rows);
  auto uc = u - u.mean(0), tc = t - t.mean(0);
  auto k = (uc * tc).mean(0) / (uc * uc).mean(0), d = t.mean(0) - k * u.mean(0);
  EXPECT_EQ(calib.norms, 1);
  EXPECT_EQ(calib.rows, 64);
  EXPECT_NEAR(m.norm->alpha.item<double>(), alpha, 1e-5 * alpha);
  EXPECT_TRUE(torch::allclose(m.norm->weight, (w0 * k).to(torch::kFloat), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(m.norm->bias, (b0 + w0 * d).to(torch::kFloat), 1e-5, 1e-6));
  EXPECT_EQ(m.norm->calib.stage, 0);

  // Now DyT again, and close to the LayerNorm on fresh rows of the same kind; the constant init
  // (alpha 0.5, gamma 1) passes on a signal ~30x too small at this scale.
  auto x = 0.03 * torch::randn({200, H}) + 0.01;
  torch::NoGradGuard g;
  auto ln = torch::layer_norm(x, {H}, w0, b0, eps);
  auto dyt = m.norm(x);
  auto constant = torch::tanh(0.5 * x) * w0 + b0;
  // What remains is each row's own mean and std, which DyT does not see (~1/sqrt(64) here).
  EXPECT_LT(rel_err(dyt, ln), 0.25) << "calibrated";
  EXPECT_GT(rel_err(constant, ln), 0.5) << "constant";
}

namespace {

Batch random_batch(int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  Batch b;
  b.input_ids = torch::randint(0, vocab, {4, 32});
  b.attention_mask = torch::ones({4, 32}, torch::kLong);
  return b;
}

// Per hidden state (embeddings, then each layer) on a batch the calibration did not see: the
// relative error of `dyt` against `ln`, and the ratio of their norms.
struct Follow {
  std::vector<double> error, scale;
};
Follow follow(TaskModelImpl& ln, TaskModelImpl& dyt) {
  torch::NoGradGuard g;
  ln.eval();
  dyt.eval();
  auto b = random_batch(ln.config.vocab_size, 2);
  auto hl = ln.forward(b, true).hidden_states, hd = dyt.forward(b, true).hidden_states;
  Follow f;
  for (size_t i = 0; i < hl.size(); ++i) {
    f.error.push_back(rel_err(hd[i], hl[i]));
    f.scale.push_back((hd[i].norm() / hl[i].norm()).item<double>());
  }
  return f;
}

}  // namespace

// What pretraining a DyT bert-mini from scratch starts from. At HF's N(0, 0.02) init the
// constant DyT init (alpha 0.5, gamma 1) shrinks the signal ~4x per post-norm layer (to 1e-4 of
// LayerNorm's after four); the calibrated one keeps LayerNorm's scale at every layer and is
// near it after the embeddings. (Its error then grows by ~0.12 a layer: at init each layer is
// nearly the identity, so LayerNorm re-normalises every row again while DyT carries each row's
// own deviation on.)
TEST(DytCalibration, FreshBertMiniKeepsTheLayerNormScale) {
  auto cfg = ModelConfig::from_json(model_preset("bert-mini", 2000), "bert-mini");
  torch::manual_seed(0);
  auto ln = build_model(cfg, Head::MaskedLanguageModel, NormOptions().type("layernorm"));
  init_weights(*ln);
  auto make_dyt = [&] {
    auto m = build_model(cfg, Head::MaskedLanguageModel, NormOptions().type("dyt"));
    torch::NoGradGuard g;
    auto src = ln->named_parameters();
    for (auto& p : m->named_parameters())
      if (src.contains(p.key())) p.value().copy_(src[p.key()]);
    return m;
  };
  auto constant = make_dyt(), calibrated = make_dyt();
  auto report = calibrate_dyt(*calibrated, 0.5, [&] { calibrated->forward(random_batch(cfg.vocab_size, 1)); });
  EXPECT_EQ(report.norms, 10);  // embeddings, 2 per layer, the MLM head's transform
  EXPECT_EQ(report.rows, 128);
  EXPECT_NE(report.describe().find("10 DyT norms fitted to LayerNorm on 128 rows"), std::string::npos) << report.describe();
  // The embedding norm reads N(0, 0.02) sums of three tables: alpha = 0.5 / ~0.035.
  EXPECT_GT(report.alphas.front(), 10.0);
  auto cal = follow(*ln, *calibrated), con = follow(*ln, *constant);
  ASSERT_EQ(cal.scale.size(), 5u);
  for (size_t i = 0; i < cal.scale.size(); ++i) {
    EXPECT_GT(cal.scale[i], 0.85) << "calibrated, hidden state " << i;
    EXPECT_LT(cal.scale[i], 1.35) << "calibrated, hidden state " << i;
  }
  EXPECT_LT(cal.error[0], 0.15);
  EXPECT_LT(cal.error.back(), 0.7);
  EXPECT_LT(con.scale.back(), 1e-3) << "constant";
  EXPECT_GT(con.error.back(), 0.99) << "constant";
}

// Converting the seeded BERT fixture (a trained-like LayerNorm checkpoint, hidden size 32): the
// calibrated conversion stays much nearer the LayerNorm model than the constant one. (At 32
// features a row's own mean and std vary by ~20% from the average the DyT fit uses, so the
// bound is looser than at bert-mini's 256.)
TEST(DytCalibration, ConvertedBertFixtureFollowsTheLayerNormModel) {
  const std::string path = test::fixtures() + "/bert_seq_cls";
  auto ln = load_model(path);
  auto constant = load_model(path, std::nullopt, NormOptions().type("dyt"));
  auto calibrated = load_model(path, std::nullopt, NormOptions().type("dyt"));
  calibrate_dyt(*calibrated.model, 0.5, [&] { calibrated.model->forward(random_batch(ln.model->config.vocab_size, 1)); });
  const double e_cal = follow(*ln.model, *calibrated.model).error.back();
  const double e_const = follow(*ln.model, *constant.model).error.back();
  EXPECT_LT(e_cal, 0.6 * e_const) << "calibrated " << e_cal << " vs constant " << e_const;
}

TEST(DytCalibration, BadUseIsAnErrorAndLeavesTheNormsAsTheyWere) {
  auto dyt_holder = std::make_shared<OneNorm>(NormOptions(8).type("dyt"));
  auto& dyt = *dyt_holder;
  auto expect_error = [](const std::function<void()>& f, const std::string& part) {
    try {
      f();
      ADD_FAILURE() << "no error; expected " << part;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error([&] { calibrate_dyt(dyt, 0.5, [] {}); }, "norm saw no input rows");
  expect_error([&] { calibrate_dyt(dyt, 0.0, [] {}); }, "dyt_alpha_init: must be positive");
  expect_error([&] { calibrate_dyt(dyt, 0.5, [] { throw Error("data: broken"); }); }, "data: broken");
  EXPECT_EQ(dyt.norm->calib.stage, 0);
  EXPECT_FLOAT_EQ(dyt.norm->alpha.item<float>(), 0.5f);  // untouched by the failed calls
  auto ln_holder = std::make_shared<OneNorm>(NormOptions(8).type("layernorm"));
  auto& ln = *ln_holder;
  expect_error([&] { calibrate_dyt(ln, 0.5, [] {}); }, "norm is not a DyT norm");
  auto no_norms = std::make_shared<torch::nn::Module>();
  EXPECT_EQ(calibrate_dyt(*no_norms, 0.5, [] {}).describe(), "no DyT norm to calibrate");
}

// On a GPU the running sums must live beside the activations (they were made on the CPU once:
// "Expected all tensors to be on the same device", seen on the H100 2026-11-24). The same norm and
// rows calibrated on CUDA give the CPU's fit.
TEST(DytCalibration, CudaGivesTheCpuFit) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: runs on the GPU machine";
  torch::manual_seed(0);
  const int64_t H = 48;
  auto make = [&] {
    auto m = std::make_shared<OneNorm>(NormOptions(H).type("dyt"));
    torch::NoGradGuard g;
    m->norm->weight.copy_(torch::linspace(0.5, 1.5, H));
    m->norm->bias.copy_(torch::linspace(-0.5, 0.5, H));
    return m;
  };
  auto x = 0.03 * torch::randn({64, H}) + 0.01;
  auto cpu = make(), gpu = make();
  gpu->to(torch::kCUDA);
  calibrate_dyt(*cpu, 0.5, [&] { cpu->norm(x); });
  calibrate_dyt(*gpu, 0.5, [&] { gpu->norm(x.to(torch::kCUDA)); });
  EXPECT_NEAR(gpu->norm->alpha.item<double>(), cpu->norm->alpha.item<double>(), 1e-5 * cpu->norm->alpha.item<double>());
  EXPECT_TRUE(torch::allclose(gpu->norm->weight.cpu(), cpu->norm->weight, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(gpu->norm->bias.cpu(), cpu->norm->bias, 1e-5, 1e-6));
}
