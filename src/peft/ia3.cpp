// ia3 ((IA)^3, Liu et al., 2022, arXiv 2205.05638): learned vectors that rescale activations,
// as HF PEFT's IA3 does: a target projection's output, y = (W x + b) * l (BERT's keys and values,
// GPT-2's c_attn), or, for a feed-forward target, its input, y = W (x * l) + b (the projections
// that read the attention's and the FFN's inner activations). Each vector starts at ones, so the
// model is unchanged at init, and is registered on its projection as "ia3_l" in PEFT's shape:
// [out, 1], or [1, in] for feed-forward targets. Merging scales W's rows and the bias, or W's
// columns, as PEFT's merge does. Like LN-Tuning it trains one scale per feature of a few
// activations (7,168 values in bert-mini and gpt2-mini: 0.064% and 0.045%, 1.6 times LN-Tuning's),
// which makes it LN-Tuning's nearest peer.
#include <optional>

#include "models/extensions.h"
#include "peft/method.h"
#include "peft/targets.h"
#include "util/error.h"
#include "util/strings.h"

namespace lntune::peft {

namespace {

// t * l in the promoted type, returned in t's type (PEFT multiplies in the vector's type too; under
// autocast the activations are 16-bit and l stays fp32).
torch::Tensor scaled(const torch::Tensor& t, const torch::Tensor& l) {
  auto y = t * l;
  return y.scalar_type() == t.scalar_type() ? y : y.to(t.scalar_type());
}

class Ia3Scale : public ProjectionDelta {
 public:
  Ia3Scale(torch::Tensor l, bool feedforward) : l_(std::move(l)), feedforward_(feedforward) {}
  std::string kind() const override { return "ia3"; }
  bool changes_input() const override { return feedforward_; }
  // [1, in] broadcasts over x's rows as it is.
  torch::Tensor input(const torch::Tensor& x) override { return scaled(x, l_); }
  torch::Tensor add_to(const torch::Tensor& y, const torch::Tensor&) override {
    return feedforward_ ? y : scaled(y, l_.view({-1}));
  }
  void fold(torch::Tensor weight, torch::Tensor bias, bool undo) override {
    const auto l = l_.detach();
    if (undo)
      TORCH_CHECK(!l.eq(0).any().item<bool>(), "method.ia3: cannot unmerge a projection scaled by 0");
    // Feed-forward: [1, in] scales W's columns; else [out, 1] its rows, and the bias.
    undo ? weight.div_(l) : weight.mul_(l);
    if (!feedforward_ && bias.defined()) undo ? bias.div_(l.view({-1})) : bias.mul_(l.view({-1}));
  }

 private:
  torch::Tensor l_;
  bool feedforward_;
};

// The options as applied: the architecture's defaults where the user gave none (PEFT's rule:
// no target_modules / feedforward_modules means the model type's mapping).
std::pair<std::vector<std::string>, std::vector<std::string>> targets_of(const TaskModelImpl& model, const nlohmann::json& o) {
  auto targets = names_or(o["targets"], default_ia3_targets(model.config.model_type));
  const auto& ff = o["feedforward"];
  return {targets, ff.is_null() ? default_ia3_feedforward(model.config.model_type) : names_or(ff, {})};
}

class Ia3 : public Method {
 public:
  std::string name() const override { return "ia3"; }
  nlohmann::json default_options() const override {
    return {{"targets", nlohmann::json::array()}, {"feedforward", nullptr}};
  }
  void check(const nlohmann::json& o) const override {
    check_names(o["targets"], "targets");
    const auto& ff = o["feedforward"];
    if (!ff.is_null() && !ff.is_array())
      throw OptionError("feedforward", "must be null (the architecture's defaults) or a list of names, got " + ff.dump());
    if (!ff.is_null()) check_names(ff, "feedforward");
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    const auto [targets, feedforward] = targets_of(model, o);
    std::vector<bool> ff_used(feedforward.size(), false);
    for (const auto& [name, proj] : target_projections(model, targets)) {
      // Feed-forward names by the targets' dotted-suffix rule (PEFT checks a plain suffix there:
      // the same modules for its defaults).
      bool ff = false;
      for (size_t i = 0; i < feedforward.size(); ++i)
        if (matches_target(name, {feedforward[i]})) ff = ff_used[i] = true;
      auto l = proj->register_parameter("ia3_l", ff ? torch::ones({1, proj->in_features()}) : torch::ones({proj->out_features(), 1}));
      proj->set_delta(std::make_shared<Ia3Scale>(l, ff));
    }
    // PEFT's rule: feed-forward modules are a subset of the targets.
    for (size_t i = 0; i < feedforward.size(); ++i)
      if (!ff_used[i]) throw OptionError("feedforward", "'" + feedforward[i] + "' names none of the scaled projections");
  }
  std::optional<PeftExport> peft_export(TaskModelImpl& model, const nlohmann::json& o) override {
    const auto [targets, feedforward] = targets_of(model, o);
    PeftExport ex;
    // GPT-2's Conv1D stores weights [in, out]: PEFT's fan_in_fan_out (the vectors' shapes do not change).
    ex.config = {{"peft_type", "IA3"},          {"target_modules", targets},
                 {"feedforward_modules", feedforward}, {"fan_in_fan_out", model.config.is_gpt2()},
                 {"init_ia3_weights", true}};
    for (const auto& p : model.named_parameters())
      if (ends_with(p.key(), ".ia3_l")) ex.tensors.emplace_back("base_model.model." + p.key(), p.value().detach().clone());
    return ex;
  }
};

}  // namespace

std::unique_ptr<Method> make_ia3() { return std::make_unique<Ia3>(); }

}  // namespace lntune::peft
