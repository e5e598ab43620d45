// adapter: bottleneck adapters x + s * up(act(down(.))) on residual sub-layers.
//   houlsby  (Houlsby et al., 2019): serial, after the attention and the FFN output;
//   pfeiffer (Pfeiffer et al., 2021): serial, after the FFN only;
//   parallel (He et al., 2022): reads the FFN input, added to the FFN output (scaling s).
// `up` starts at zero, so the model is exactly unchanged at init (near-identity adapters).
#include "models/bert.h"
#include "models/gpt2.h"
#include "models/linear.h"
#include "peft/method.h"
#include "util/error.h"
#include "util/strings.h"

namespace lntune::peft {

namespace {

class Bottleneck : public SublayerAdapter {
 public:
  Bottleneck(int64_t hidden, int64_t size, bool parallel, double scaling, std::string act)
      : parallel_(parallel), scaling_(scaling), act_(std::move(act)) {
    down = register_module("down", torch::nn::Linear(hidden, size));
    up = register_module("up", torch::nn::Linear(size, hidden));
    torch::NoGradGuard g;
    down->weight.normal_(0, 0.02);
    down->bias.zero_();
    up->weight.zero_();
    up->bias.zero_();
  }
  torch::Tensor forward(const torch::Tensor& out, const torch::Tensor& in) override {
    auto z = linear(down, parallel_ ? in : out);
    z = act_ == "relu" ? torch::relu(z) : act_ == "gelu" ? torch::gelu(z) : torch::tanh(z);
    return torch::add(out, linear(up, z), scaling_);  // out + s * up(z) in one operator (two as written)
  }
  torch::nn::Linear down{nullptr}, up{nullptr};

 private:
  bool parallel_;
  double scaling_;
  std::string act_;
};

class Adapter : public Method {
 public:
  std::string name() const override { return "adapter"; }
  nlohmann::json default_options() const override {
    return {{"type", "houlsby"}, {"reduction_factor", 16}, {"size", 0}, {"act", "relu"}, {"scaling", 1.0}};
  }
  void check(const nlohmann::json& o) const override {
    const std::string type = o["type"].get<std::string>(), act = o["act"].get<std::string>();
    if (type != "houlsby" && type != "pfeiffer" && type != "parallel")
      throw OptionError("type", "'" + type + "' (houlsby, pfeiffer, parallel)");
    if (act != "relu" && act != "gelu" && act != "tanh") throw OptionError("act", "'" + act + "' (relu, gelu, tanh)");
    const int64_t given = o["size"].get<int64_t>(), rf = o["reduction_factor"].get<int64_t>();
    if (given < 0) throw OptionError("size", "must be positive (or 0: hidden size / reduction_factor), got " + std::to_string(given));
    if (given == 0 && rf <= 0) throw OptionError("reduction_factor", "must be positive, got " + std::to_string(rf));
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    const std::string type = o["type"].get<std::string>(), act = o["act"].get<std::string>();
    const int64_t H = model.config.hidden_size, given = o["size"].get<int64_t>(), rf = o["reduction_factor"].get<int64_t>();
    const int64_t size = given > 0 ? given : H / rf;
    if (size <= 0)
      throw OptionError("reduction_factor", std::to_string(rf) + " leaves no bottleneck of hidden size " + std::to_string(H));
    bool parallel = type == "parallel", attn_too = type == "houlsby";
    double s = o["scaling"].get<double>();
    auto make = [&] { return std::make_shared<Bottleneck>(H, size, parallel, s, act); };
    int added = 0;
    for (const auto& item : model.named_modules()) {
      if (auto out = std::dynamic_pointer_cast<BertResidualOutputImpl>(item.value())) {
        bool after_attention = ends_with(item.key(), "attention.output");
        if (after_attention && !attn_too) continue;
        out->adapter = out->register_module("adapter", make());
        ++added;
      } else if (auto blk = std::dynamic_pointer_cast<GPT2BlockImpl>(item.value())) {
        if (attn_too) blk->adapter_attn = blk->register_module("adapter_attn", make());
        blk->adapter_ffn = blk->register_module("adapter_ffn", make());
        ++added;
      }
    }
    if (added == 0) throw Error("method.adapter: no residual sub-layer found in this model");
  }
};

}  // namespace

std::unique_ptr<Method> make_adapter() { return std::make_unique<Adapter>(); }

}  // namespace lntune::peft
