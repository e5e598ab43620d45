// ln — LN-Tuning (Qi et al., arXiv 2211.08682): the gain and bias of LayerNorms train.
// Ablations: `terms` (gain | bias | both), `modules` (roles from norm_role(): embedding, mha,
// ffn, ln_1, ln_2, ln_f; empty = all), `layers` ("0-5,8"; only norms inside those layers).
// With a DyT norm the same selection trains gamma/beta (and alpha with "both").
#include <algorithm>

#include "peft/method.h"
#include "util/error.h"

namespace lntune::peft {

namespace {
class LnTuning : public Method {
 public:
  std::string name() const override { return "ln"; }
  nlohmann::json default_options() const override {
    return {{"terms", "both"}, {"modules", nlohmann::json::array()}, {"layers", ""}};
  }
  void check(const nlohmann::json& o) const override {
    const std::string terms = o["terms"].get<std::string>();
    if (terms != "both" && terms != "gain" && terms != "bias") throw OptionError("terms", "'" + terms + "' (gain, bias, both)");
    for (const auto& m : o["modules"]) {
      if (!m.is_string()) throw OptionError("modules", "entries must be strings, got " + m.dump());
      static const char* kRoles[] = {"embedding", "mha", "ffn", "ln_1", "ln_2", "ln_f"};
      if (std::find(std::begin(kRoles), std::end(kRoles), m.get<std::string>()) == std::end(kRoles))
        throw OptionError("modules", "unknown module '" + m.get<std::string>() + "' (embedding, mha, ffn, ln_1, ln_2, ln_f)");
    }
    parse_layer_ranges(o["layers"].get<std::string>(), "layers");
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    const std::string terms = o["terms"].get<std::string>();
    const auto modules = o["modules"].get<std::vector<std::string>>();
    auto ranges = parse_layer_ranges(o["layers"].get<std::string>(), "layers");
    // A range past the last layer is a config written for a deeper model: say so rather than
    // tune a different set than the one asked for.
    const int64_t L = model.config.num_layers;
    for (auto [a, b] : ranges)
      if (b >= L)
        throw OptionError("layers", "layer " + std::to_string(b) + " does not exist (the model has " + std::to_string(L) +
                                        " layers, 0-" + std::to_string(L - 1) + ")");
    int selected = 0;
    for (const auto& n : find_norms(model)) {
      if (!modules.empty() && std::find(modules.begin(), modules.end(), n.role) == modules.end()) continue;
      if (!ranges.empty()) {
        int l = layer_index(n.name);
        bool in = false;
        for (auto [a, b] : ranges) in |= l >= a && l <= b;
        if (!in) continue;
      }
      if (terms != "bias") n.module->weight.set_requires_grad(true);
      if (terms != "gain") n.module->bias.set_requires_grad(true);
      if (terms == "both" && n.module->alpha.defined()) n.module->alpha.set_requires_grad(true);
      ++selected;
    }
    if (selected == 0) throw OptionError("", "the modules/layers selection matches no norm of this model");
  }
  // PEFT's LN_TUNING keeps a tuned copy of each target norm ("<norm>.ln_tuning_layers.weight"/
  // ".bias"); a norm counts as a target when any of its terms trained. DyT has no PEFT form.
  std::optional<PeftExport> peft_export(TaskModelImpl& model, const nlohmann::json&) override {
    PeftExport ex;
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& n : find_norms(model)) {
      if (n.module->alpha.defined()) return std::nullopt;
      if (!n.module->weight.requires_grad() && !n.module->bias.requires_grad()) continue;
      targets.push_back(n.name);
      ex.tensors.emplace_back("base_model.model." + n.name + ".ln_tuning_layers.weight", n.module->weight.detach().clone());
      ex.tensors.emplace_back("base_model.model." + n.name + ".ln_tuning_layers.bias", n.module->bias.detach().clone());
    }
    ex.config = {{"peft_type", "LN_TUNING"}, {"target_modules", targets}};
    return ex;
  }
};
}  // namespace

std::unique_ptr<Method> make_ln() { return std::make_unique<LnTuning>(); }

}  // namespace lntune::peft
