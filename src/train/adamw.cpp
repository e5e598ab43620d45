#include "train/adamw.h"

#include <cmath>
#include <map>

#include "util/error.h"

namespace lntune {

AdamW::AdamW(std::vector<Param> params, AdamWOptions opt) : params_(std::move(params)), opt_(opt) {
  for (auto& p : params_) {
    p.exp_avg = torch::zeros_like(p.value, torch::MemoryFormat::Preserve);
    p.exp_avg_sq = torch::zeros_like(p.value, torch::MemoryFormat::Preserve);
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_)
    if (p.value.grad().defined()) p.value.mutable_grad().zero_();
}

void AdamW::step(double lr) {
  torch::NoGradGuard g;
  ++step_;
  double bc1 = 1 - std::pow(opt_.beta1, static_cast<double>(step_));
  double bc2 = 1 - std::pow(opt_.beta2, static_cast<double>(step_));
  for (auto& p : params_) {
    const auto& grad = p.value.grad();
    if (!grad.defined()) continue;
    if (p.weight_decay != 0) p.value.mul_(1 - lr * p.weight_decay);
    p.exp_avg.mul_(opt_.beta1).add_(grad, 1 - opt_.beta1);
    p.exp_avg_sq.mul_(opt_.beta2).addcmul_(grad, grad, 1 - opt_.beta2);
    auto denom = (p.exp_avg_sq.sqrt() / std::sqrt(bc2)).add_(opt_.eps);
    p.value.addcdiv_(p.exp_avg, denom, -lr / bc1);
  }
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : params_) {
    out.emplace_back(p.name + ".exp_avg", p.exp_avg);
    out.emplace_back(p.name + ".exp_avg_sq", p.exp_avg_sq);
  }
  return out;
}

void AdamW::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step) {
  std::map<std::string, torch::Tensor> m(tensors.begin(), tensors.end());
  torch::NoGradGuard g;
  for (auto& p : params_) {
    for (auto [suffix, dst] : {std::make_pair(".exp_avg", &p.exp_avg), std::make_pair(".exp_avg_sq", &p.exp_avg_sq)}) {
      auto it = m.find(p.name + suffix);
      if (it == m.end()) throw Error("optimizer state has no " + p.name + suffix);
      if (it->second.sizes() != dst->sizes()) throw Error("optimizer state " + p.name + suffix + " has the wrong shape");
      dst->copy_(it->second);
    }
  }
  step_ = step;
}

}  // namespace lntune
