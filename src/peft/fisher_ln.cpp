// fisher_ln (arXiv 2403.20284): train only the LayerNorm elements with the largest empirical
// Fisher information. prepare() sums squared per-sample gradients of every selected LN element
// over `samples` training examples, keeps the top `top_percent` % of elements across the model,
// and after_backward() masks the gradients of the others (AdamW then leaves them unchanged:
// zero gradient, zero moments, no weight decay on norms). Selection options as for `ln`.
#include <algorithm>

#include "peft/method.h"
#include "util/error.h"

namespace lntune::peft {

namespace {

class FisherLn : public Method {
 public:
  std::string name() const override { return "fisher_ln"; }
  nlohmann::json default_options() const override {
    auto o = make_ln()->default_options();
    o["top_percent"] = 10.0;
    o["samples"] = 256;
    return o;
  }
  // ln's options sit beside fisher_ln's own: ln's errors name the same path.
  void check(const nlohmann::json& o) const override {
    const double top = o["top_percent"].get<double>();
    if (!(top > 0 && top <= 100)) throw OptionError("top_percent", "must be in (0, 100], got " + o["top_percent"].dump());
    if (o["samples"].get<int64_t>() <= 0) throw OptionError("samples", "must be positive, got " + o["samples"].dump());
    make_ln()->check(ln_options(o));
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    top_ = o["top_percent"].get<double>();
    samples_ = o["samples"].get<int64_t>();
    make_ln()->apply(model, ln_options(o));
    for (const auto& n : find_norms(model))
      for (const auto& p : n.module->named_parameters(false))
        if (p.value().requires_grad()) params_.push_back(p.value());
  }
  // How many elements select() keeps depends only on their count, so it is known before the
  // Fisher estimate (a --dry-run reports it).
  int64_t masked_elements() const override {
    int64_t n = 0;
    for (const auto& p : params_) n += p.numel();
    return n - selected_count(n);
  }
  void prepare(TaskModelImpl& model, const std::function<torch::Tensor(int64_t)>& sample_loss, int64_t n) override {
    std::vector<torch::Tensor> fisher;
    for (const auto& p : params_) fisher.push_back(torch::zeros_like(p));
    int64_t count = std::min(samples_, n);
    if (count <= 0) throw Error("method.fisher_ln: no training samples to estimate the Fisher information");
    for (int64_t i = 0; i < count; ++i) {
      model.zero_grad();
      sample_loss(i).backward();
      torch::NoGradGuard g;
      for (size_t k = 0; k < params_.size(); ++k)
        if (params_[k].grad().defined()) fisher[k].add_(params_[k].grad().square());
    }
    model.zero_grad();
    select(fisher);
  }
  // Keeps the top `top_percent` % elements of `fisher` (ties broken by position); exposed via prepare.
  void select(const std::vector<torch::Tensor>& fisher) {
    std::vector<torch::Tensor> flat;
    for (const auto& f : fisher) flat.push_back(f.flatten());
    auto all = torch::cat(flat);
    const int64_t k = selected_count(all.numel());
    auto idx = std::get<1>(torch::topk(all, k, 0, /*largest=*/true, /*sorted=*/true));
    auto keep = torch::zeros_like(all);
    keep.index_fill_(0, idx, 1.0);
    masks_.clear();
    int64_t off = 0;
    for (const auto& f : fisher) {
      masks_.push_back(keep.narrow(0, off, f.numel()).view_as(f));
      off += f.numel();
    }
  }
  void after_backward(TaskModelImpl&) override {
    torch::NoGradGuard g;
    for (size_t k = 0; k < params_.size() && k < masks_.size(); ++k)
      if (params_[k].grad().defined()) params_[k].mutable_grad().mul_(masks_[k]);
  }
  const std::vector<torch::Tensor>& masks() const { return masks_; }

 private:
  static nlohmann::json ln_options(nlohmann::json o) {
    o.erase("top_percent");
    o.erase("samples");
    return o;
  }
  // top_percent of n elements, rounded to nearest, at least one.
  int64_t selected_count(int64_t n) const {
    return std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * top_ / 100.0 + 0.5));
  }
  double top_ = 10;
  int64_t samples_ = 256;
  std::vector<torch::Tensor> params_, masks_;
};

}  // namespace

std::unique_ptr<Method> make_fisher_ln() { return std::make_unique<FisherLn>(); }

}  // namespace lntune::peft
