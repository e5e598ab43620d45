#include "models/norm.h"

#include "ops/dyt.h"
#include "ops/layernorm.h"

namespace lntune {

NormImpl::NormImpl(const NormOptions& opt) : options(opt) {
  TORCH_CHECK(opt.dim() > 0, "norm dim must be positive, got ", opt.dim());
  TORCH_CHECK(opt.type() == "auto" || opt.type() == "layernorm" || opt.type() == "dyt",
              "model.norm.type: unknown norm '", opt.type(), "' (auto, layernorm, dyt)");
  if (options.type() == "auto") options.type("layernorm");  // no checkpoint said otherwise
  TORCH_CHECK(opt.impl() == "torch" || opt.impl() == "fused", "model.norm.impl: unknown impl '", opt.impl(),
              "' (torch, fused)");
  TORCH_CHECK(opt.dyt_init() == "constant" || opt.dyt_init() == "calibrated", "model.norm.dyt_init: unknown init '",
              opt.dyt_init(), "' (constant, calibrated)");
  weight = register_parameter("weight", torch::ones({opt.dim()}));
  bias = register_parameter("bias", torch::zeros({opt.dim()}));
  if (options.type() == "dyt") alpha = register_parameter("alpha", torch::full({1}, opt.dyt_alpha_init()));
}

void NormImpl::reset_parameters() {
  torch::NoGradGuard g;
  weight.fill_(1);
  bias.zero_();
  if (alpha.defined()) alpha.fill_(options.dyt_alpha_init());
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  if (calib.stage) {
    auto xf = x.detach().to(torch::kDouble).reshape({-1, options.dim()});
    auto [var, mean] = torch::var_mean(xf, {-1}, /*unbiased=*/false);
    auto sd = (var + options.eps()).sqrt();
    calib.rows += xf.size(0);
    if (calib.stage == 1) {
      calib.std_sum += sd.sum().item<double>();
    } else {
      auto t = (xf - mean.unsqueeze(1)) / sd.unsqueeze(1);
      auto u = torch::tanh(calib.alpha * xf);
      calib.u += u.sum(0);
      calib.uu += (u * u).sum(0);
      calib.t += t.sum(0);
      calib.ut += (u * t).sum(0);
    }
    return torch::layer_norm(x, {options.dim()}, weight, bias, options.eps());
  }
  bool fused = options.impl() == "fused";
  if (options.type() == "dyt") return fused ? ops::fused_dyt(x, alpha, weight, bias) : torch::tanh(alpha * x) * weight + bias;
  return fused ? ops::fused_layer_norm(x, weight, bias, options.eps())
               : torch::layer_norm(x, {options.dim()}, weight, bias, options.eps());
}

void NormImpl::pretty_print(std::ostream& s) const {
  s << "lntune::Norm(" << options.type() << ", " << options.dim() << ", eps=" << options.eps()
    << ", impl=" << options.impl() << ")";
}

Norm make_norm(const NormOptions& options) { return Norm(options); }

}  // namespace lntune
