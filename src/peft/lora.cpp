// lora (Hu et al., 2021): y = W x + (alpha / r) * B A dropout(x) on the target projections; A is
// Kaiming-uniform, B zero (so the model is unchanged at init). A and B are registered on the
// projection as "lora_A" / "lora_B" (HF PEFT's names); merge() folds B A into W for export.
#include <cmath>
#include <optional>

#include "models/dropout.h"
#include "models/extensions.h"
#include "peft/method.h"
#include "peft/targets.h"
#include "util/error.h"

namespace lntune::peft {

namespace {

class LoraDelta : public ProjectionDelta {
 public:
  LoraDelta(torch::nn::Linear a, torch::nn::Linear b, Dropout d, double scale)
      : a_(std::move(a)), b_(std::move(b)), drop_(std::move(d)), scale_(scale) {}
  std::string kind() const override { return "lora"; }
  // y + scale * B A dropout(x) as two operators: A's product, then B's with the scale and the
  // addition folded in (addmm), where dropout, A, B, * scale and + y were five (dropout 0 is
  // now no operator, as HF PEFT's nn.Identity). The backward gains one multiply (addmm's
  // alpha on both of its gradients), so a step runs 2 fewer per wrapped projection; on a GPU
  // a PEFT step is mostly per-operator host cost.
  torch::Tensor add_to(const torch::Tensor& y, const torch::Tensor& x) override {
    auto h = drop_->options.p() > 0 ? drop_(x) : x;
    auto down = torch::linear(h.reshape({-1, h.size(-1)}), a_->weight);  // [rows, r]
    return torch::addmm(y.reshape({-1, y.size(-1)}), down, b_->weight.t(), /*beta=*/1, /*alpha=*/scale_)
        .view(y.sizes());
  }
  void fold(torch::Tensor weight, torch::Tensor, bool undo) override {
    weight.add_(torch::matmul(b_->weight, a_->weight), undo ? -scale_ : scale_);
  }

 private:
  torch::nn::Linear a_, b_;
  Dropout drop_;
  double scale_;
};

class Lora : public Method {
 public:
  std::string name() const override { return "lora"; }
  nlohmann::json default_options() const override {
    return {{"r", 8}, {"alpha", 16.0}, {"dropout", 0.0}, {"targets", nlohmann::json::array()}};
  }
  void check(const nlohmann::json& o) const override {
    if (o["r"].get<int64_t>() <= 0) throw OptionError("r", "must be positive, got " + o["r"].dump());
    const double dropout = o["dropout"].get<double>();
    if (!(dropout >= 0 && dropout < 1)) throw OptionError("dropout", "must be in [0, 1), got " + o["dropout"].dump());
    check_names(o["targets"], "targets");
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    const int64_t r = o["r"].get<int64_t>();
    const double dropout = o["dropout"].get<double>();
    double scale = o["alpha"].get<double>() / static_cast<double>(r);
    const auto targets = names_or(o["targets"], default_lora_targets(model.config.model_type));
    for (const auto& [name, proj] : target_projections(model, targets)) {
      auto a = proj->register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(proj->in_features(), r).bias(false)));
      auto b = proj->register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(r, proj->out_features()).bias(false)));
      auto d = proj->register_module("lora_dropout", Dropout(DropoutOptions(dropout).impl(model.config.dropout_impl)));
      {
        torch::NoGradGuard g;
        torch::nn::init::kaiming_uniform_(a->weight, std::sqrt(5.0));
        b->weight.zero_();
      }
      proj->set_delta(std::make_shared<LoraDelta>(a, b, d, scale));
    }
  }
  std::optional<PeftExport> peft_export(TaskModelImpl& model, const nlohmann::json& o) override {
    PeftExport ex;
    const auto targets = names_or(o["targets"], default_lora_targets(model.config.model_type));
    // GPT-2's Conv1D stores weights [in, out]: PEFT's fan_in_fan_out. lora_A/B keep nn.Linear's layout.
    ex.config = {{"peft_type", "LORA"}, {"r", o["r"]}, {"lora_alpha", o["alpha"]}, {"lora_dropout", o["dropout"]},
                 {"target_modules", targets}, {"bias", "none"}, {"fan_in_fan_out", model.config.is_gpt2()},
                 {"init_lora_weights", true}, {"use_rslora", false}, {"use_dora", false}};
    for (const auto& p : model.named_parameters())
      if (p.key().find(".lora_A.") != std::string::npos || p.key().find(".lora_B.") != std::string::npos)
        ex.tensors.emplace_back("base_model.model." + p.key(), p.value().detach().clone());
    return ex;
  }
};

}  // namespace

std::unique_ptr<Method> make_lora() { return std::make_unique<Lora>(); }

}  // namespace lntune::peft
