// bitfit (Ben Zaken et al., 2022): every bias vector of the backbone trains.
#include "peft/method.h"
#include "util/strings.h"

namespace lntune::peft {

namespace {
class BitFit : public Method {
 public:
  std::string name() const override { return "bitfit"; }
  void apply(TaskModelImpl& model, const nlohmann::json&) override {
    for (auto& p : model.named_parameters())
      if (ends_with(p.key(), ".bias")) p.value().set_requires_grad(true);
  }
};
}  // namespace

std::unique_ptr<Method> make_bitfit() { return std::make_unique<BitFit>(); }

}  // namespace lntune::peft
