// dyt — the DyT analogue of LN-Tuning: with model.norm.type "dyt" (arXiv 2503.10622), every DyT
// norm's gamma, beta and scalar alpha train. `alpha: false` keeps alpha at its initial value
// (gamma/beta only, the exact counterpart of ln). A model without DyT norms is an error.
#include "peft/method.h"
#include "util/error.h"

namespace lntune::peft {

namespace {
class DytTuning : public Method {
 public:
  std::string name() const override { return "dyt"; }
  nlohmann::json default_options() const override { return {{"alpha", true}}; }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    bool alpha = o["alpha"].get<bool>();
    int n = 0;
    for (const auto& norm : find_norms(model)) {
      if (!norm.module->alpha.defined()) continue;
      norm.module->weight.set_requires_grad(true);
      norm.module->bias.set_requires_grad(true);
      if (alpha) norm.module->alpha.set_requires_grad(true);
      ++n;
    }
    if (n == 0) throw OptionError("", "dyt trains DyT norms, and the model has none (set model.norm.type to \"dyt\")");
  }
};
}  // namespace

std::unique_ptr<Method> make_dyt() { return std::make_unique<DytTuning>(); }

}  // namespace lntune::peft
