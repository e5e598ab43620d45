#include "models/dyt_calibration.h"

#include <algorithm>
#include <cstdio>

#include "util/error.h"

namespace lntune {

std::string DytCalibrationReport::describe() const {
  if (alphas.empty()) return "no DyT norm to calibrate";
  auto [lo, hi] = std::minmax_element(alphas.begin(), alphas.end());
  char buf[128];
  std::snprintf(buf, sizeof buf, "%lld DyT norms fitted to LayerNorm on %lld rows, alpha %.3g .. %.3g",
                static_cast<long long>(norms), static_cast<long long>(rows), *lo, *hi);
  return buf;
}

DytCalibrationReport calibrate_dyt(torch::nn::Module& model, double c, const std::function<void()>& forward_batches) {
  if (!(c > 0)) throw Error("model.norm.dyt_alpha_init: must be positive for a calibrated DyT init, got " + std::to_string(c));
  std::vector<NormInfo> norms;
  for (const auto& n : find_norms(model)) {
    if (!n.module->alpha.defined()) throw Error("DyT calibration: " + n.name + " is not a DyT norm");
    norms.push_back(n);
  }
  DytCalibrationReport r;
  if (norms.empty()) return r;
  const bool was_training = model.is_training();
  // One pass with every norm at `stage`; the norms are back to DyT after, whatever happens.
  auto pass = [&](int stage) {
    for (auto& n : norms) {
      n.module->calib.stage = stage;
      n.module->calib.rows = 0;
    }
    auto stop = [&] {
      for (auto& n : norms) n.module->calib.stage = 0;
      model.train(was_training);
    };
    try {
      torch::NoGradGuard g;
      model.eval();
      forward_batches();
    } catch (...) {
      stop();
      throw;
    }
    stop();
    for (auto& n : norms)  // checked before any norm changes: all fitted or none
      if (n.module->calib.rows == 0) throw Error("DyT calibration: " + n.name + " saw no input rows");
  };

  // Stage 1: alpha puts a one-sigma input at tanh argument c.
  for (auto& n : norms) n.module->calib.std_sum = 0;
  pass(1);
  r.rows = norms.front().module->calib.rows;
  for (auto& n : norms) {
    auto& cal = n.module->calib;
    cal.alpha = c / (cal.std_sum / static_cast<double>(cal.rows));
    // On the norm's device: the sums add up activations where the model runs (a GPU too).
    auto z = torch::zeros({n.module->options.dim()}, n.module->weight.options().dtype(torch::kDouble));
    cal.u = z.clone(), cal.uu = z.clone(), cal.t = z.clone(), cal.ut = z.clone();
  }
  // Stage 2: per feature, the least-squares line t ~ k u + d.
  pass(2);
  torch::NoGradGuard g;
  for (auto& n : norms) {
    auto& m = *n.module;
    auto& cal = m.calib;
    const double rows = static_cast<double>(cal.rows);
    auto mu_u = cal.u / rows, mu_t = cal.t / rows;
    auto var_u = cal.uu / rows - mu_u * mu_u, cov = cal.ut / rows - mu_u * mu_t;
    // A feature tanh leaves constant has no slope to fit: keep tanh's first-order one.
    auto k = torch::where(var_u > 1e-12, cov / var_u.clamp_min(1e-12), torch::full_like(cov, 1.0 / c));
    auto d = mu_t - k * mu_u;
    auto gamma = m.weight.to(torch::kDouble);
    m.bias.copy_(m.bias.to(torch::kDouble) + gamma * d);
    m.weight.copy_(gamma * k);
    m.alpha.fill_(cal.alpha);
    r.alphas.push_back(cal.alpha);
    cal = NormImpl::Calibration{};
  }
  r.norms = static_cast<int64_t>(norms.size());
  return r;
}

}  // namespace lntune
