// prefix (Li & Liang, 2021): P trainable key/value vectors prepended in every attention layer
// (the attention mask widened so every query sees them; GPT-2's causal mask too). With
// `reparam`, the prefixes are produced by an MLP over a P x H embedding during training, as in
// the paper; the PEFT export (peft_export) writes the prefixes it produces, without the MLP.
// `positions`: "from_zero" (the tokens keep positions 0..T-1; what the recorded tables ran) or
// "shifted" (they start at P, as in HF models given PEFT's prefixes as past_key_values, and in Li
// & Liang's GPT-2 code): only "shifted" computes in HF PEFT what it computes here.
#include <spdlog/spdlog.h>

#include "models/bert.h"
#include "models/gpt2.h"
#include "peft/method.h"
#include "util/error.h"

namespace lntune::peft {

namespace {

// All layers' prefixes: [L, 2, P, heads, head_dim].
class PrefixEncoder : public torch::nn::Module {
 public:
  PrefixEncoder(int64_t layers, int64_t heads, int64_t head_dim, int64_t length, bool reparam, int64_t hidden)
      : L_(layers), heads_(heads), d_(head_dim), P_(length) {
    int64_t H = heads * head_dim, out = layers * 2 * H;
    if (reparam) {
      embedding = register_parameter("embedding", torch::randn({length, H}) * 0.02);
      mlp = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(H, hidden), torch::nn::Tanh(),
                                                         torch::nn::Linear(hidden, out)));
    } else {
      prefix = register_parameter("prefix", torch::randn({length, out}) * 0.02);
    }
  }
  // [P, L * 2 * H]: per virtual token, layer-major (key, value) vectors: HF PEFT's
  // prompt_embeddings layout for prefix tuning.
  torch::Tensor flat() { return mlp.is_empty() ? prefix : mlp->forward(embedding); }
  torch::Tensor all() { return flat().view({P_, L_, 2, heads_, d_}).permute({1, 2, 0, 3, 4}); }
  // Layer `layer`'s [2, P, heads, d]. all() runs once per forward pass, as HF PEFT makes its
  // past_key_values once: layer 0, which every pass reaches first, makes it; the last layer lets
  // it go, so no tensor outlives the pass (CUDA graphs rely on that: train/step_graph.h). Per
  // layer, the reparameterisation MLP ran L times per pass, with its backward and gradient sums.
  torch::Tensor for_layer(int64_t layer) {
    if (layer == 0 || !pass_.defined()) pass_ = all();
    auto kv = pass_[layer];
    if (layer == L_ - 1) pass_ = torch::Tensor();
    return kv;
  }
  int64_t length() const { return P_; }
  torch::Tensor embedding, prefix;
  torch::nn::Sequential mlp{nullptr};

 private:
  int64_t L_, heads_, d_, P_;
  torch::Tensor pass_;
};

class LayerPrefix : public AttentionPrefix {
 public:
  LayerPrefix(std::shared_ptr<PrefixEncoder> enc, int64_t layer) : enc_(std::move(enc)), layer_(layer) {}
  std::pair<torch::Tensor, torch::Tensor> key_values(int64_t batch) override {
    auto kv = enc_->for_layer(layer_);  // [2, P, heads, d]
    auto k = kv[0].permute({1, 0, 2}).unsqueeze(0).expand({batch, -1, -1, -1});
    auto v = kv[1].permute({1, 0, 2}).unsqueeze(0).expand({batch, -1, -1, -1});
    return {k, v};
  }
  int64_t length() const override { return enc_->length(); }

 private:
  std::shared_ptr<PrefixEncoder> enc_;
  int64_t layer_;
};

class Prefix : public Method {
 public:
  std::string name() const override { return "prefix"; }
  nlohmann::json default_options() const override {
    return {{"length", 10}, {"reparam", true}, {"hidden", 512}, {"positions", "from_zero"}};
  }
  void check(const nlohmann::json& o) const override {
    if (o["length"].get<int64_t>() < 0) throw OptionError("length", "must be >= 0, got " + o["length"].dump());
    if (o["reparam"].get<bool>() && o["hidden"].get<int64_t>() <= 0)
      throw OptionError("hidden", "the reparameterisation MLP's width must be positive, got " + o["hidden"].dump());
    const std::string positions = o["positions"].get<std::string>();
    if (positions != "from_zero" && positions != "shifted")
      throw OptionError("positions", "'" + positions + "' is not one of from_zero, shifted");
  }
  void apply(TaskModelImpl& model, const nlohmann::json& o) override {
    const int64_t P = o["length"].get<int64_t>();
    const std::string positions = o["positions"].get<std::string>();
    const auto& c = model.config;
    auto enc = std::make_shared<PrefixEncoder>(c.num_layers, c.num_heads, c.hidden_size / c.num_heads, P,
                                               o["reparam"].get<bool>(), o["hidden"].get<int64_t>());
    std::vector<std::shared_ptr<AttentionPrefix>*> slots;
    for (const auto& item : model.named_modules()) {
      if (auto a = std::dynamic_pointer_cast<BertSelfAttentionImpl>(item.value())) slots.push_back(&a->prefix);
      else if (auto g = std::dynamic_pointer_cast<GPT2AttentionImpl>(item.value())) slots.push_back(&g->prefix);
    }
    if (static_cast<int64_t>(slots.size()) != c.num_layers) throw Error("method.prefix: attention layers not found");
    // The encoder belongs to the backbone ("bert.prefix_encoder" / "transformer.prefix_encoder").
    std::string backbone = model.backbone_prefix().substr(0, model.backbone_prefix().size() - 1);
    for (const auto& child : model.named_children())
      if (child.key() == backbone) child.value()->register_module("prefix_encoder", enc);
    for (size_t l = 0; l < slots.size(); ++l) *slots[l] = std::make_shared<LayerPrefix>(enc, static_cast<int64_t>(l));
    if (positions == "shifted") {
      for (const auto& item : model.named_modules()) {
        if (auto b = std::dynamic_pointer_cast<BertModelImpl>(item.value())) b->position_offset = P;
        else if (auto g = std::dynamic_pointer_cast<GPT2ModelImpl>(item.value())) g->position_offset = P;
      }
    }
    enc_ = enc;
  }
  // The prefixes themselves (the reparameterisation MLP evaluated and dropped), as PEFT's
  // prefix tuning stores them without prefix_projection.
  std::optional<PeftExport> peft_export(TaskModelImpl& model, const nlohmann::json& o) override {
    const auto& c = model.config;
    PeftExport ex;
    ex.config = virtual_tokens_config("PREFIX_TUNING", o["length"], c);
    ex.config["encoder_hidden_size"] = o["hidden"];
    ex.config["prefix_projection"] = false;
    if (o["positions"].get<std::string>() != "shifted")
      spdlog::warn("prefix trained with positions from 0: HF PEFT shifts the tokens' positions by the prefix length, "
                   "so this adapter computes otherwise there (method.prefix.positions=shifted for an exact export)");
    torch::NoGradGuard g;
    ex.tensors.emplace_back("prompt_embeddings", enc_->flat().detach().clone());
    return ex;
  }

 private:
  std::shared_ptr<PrefixEncoder> enc_;
};

}  // namespace

std::unique_ptr<Method> make_prefix() { return std::make_unique<Prefix>(); }

}  // namespace lntune::peft
