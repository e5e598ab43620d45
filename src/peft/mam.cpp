// mam — "Mix-And-Match" (He et al., 2022): prefix-tuning in attention + a parallel adapter on
// the FFN with scaling 4, the combination the LN-Tuning paper compares against.
#include "config/json_schema.h"
#include "peft/method.h"

namespace lntune::peft {

namespace {
class Mam : public Method {
 public:
  std::string name() const override { return "mam"; }
  nlohmann::json default_options() const override {
    auto adapter = make_adapter()->default_options();
    adapter["type"] = "parallel";
    adapter["scaling"] = 4.0;
    return {{"prefix", make_prefix()->default_options()}, {"adapter", adapter}};
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    make_prefix()->apply(model, o["prefix"]);
    make_adapter()->apply(model, o["adapter"]);
  }
};
}  // namespace

std::unique_ptr<Method> make_mam() { return std::make_unique<Mam>(); }

}  // namespace lntune::peft
