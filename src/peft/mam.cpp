// mam — "Mix-And-Match" (He et al., 2022): prefix-tuning in attention + a parallel adapter on
// the FFN with scaling 4, the combination the LN-Tuning paper compares against.
#include "config/json_schema.h"
#include "peft/method.h"
#include "util/error.h"

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
  void check(const nlohmann::json& o) const override {
    for_parts([&](Method& m, const char* part) { m.check(o[part]); });
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    for_parts([&](Method& m, const char* part) { m.apply(model, o[part]); });
  }

 private:
  // Runs f on a prefix method, then an adapter method, with the part's name; their errors name the
  // option under the part ("prefix.length").
  template <class F>
  static void for_parts(F&& f) {
    const std::pair<std::unique_ptr<Method> (*)(), const char*> parts[] = {{make_prefix, "prefix"}, {make_adapter, "adapter"}};
    for (const auto& [make, part] : parts) {
      try {
        f(*make(), part);
      } catch (const OptionError& e) {
        throw e.under(part);
      }
    }
  }
};
}  // namespace

std::unique_ptr<Method> make_mam() { return std::make_unique<Mam>(); }

}  // namespace lntune::peft
