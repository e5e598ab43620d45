// full: every parameter trains (the fine-tuning baseline).
#include "peft/method.h"

namespace lntune::peft {

namespace {
class Full : public Method {
 public:
  std::string name() const override { return "full"; }
  void apply(TaskModelImpl& model, const nlohmann::json&) override {
    for (auto& p : model.parameters()) p.set_requires_grad(true);
  }
};
}  // namespace

std::unique_ptr<Method> make_full() { return std::make_unique<Full>(); }

}  // namespace lntune::peft
